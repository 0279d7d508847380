import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { ADMIN_URL, createTestDatabase } from '../../helpers/stores.ts'
import { RUNTIME, forge, forgeHome, spawnForge, waitFor } from '../../helpers/forge-cli.ts'

const DAG = `import { defineDag } from '${RUNTIME}'
export default defineDag({ id: 'standalone_demo' }, (dag) => {
  const a = dag.task('a', () => ({ v: 1 }), { isolation: 'thread' })
  dag.shell('b', 'echo "v=$FORGE_INPUT_V"', { inputs: { v: a.out.v } })
})
`

describe('forge standalone on the embedded store', () => {
  const { dags, env, home } = forgeHome('forge-standalone-')
  writeFileSync(join(dags, 'standalone_demo.dag.ts'), DAG)
  const lock = join(home, 'state', 'pglite.lock')

  it('refuses a second process on the same FORGE_HOME, runs a triggered run, and stops on SIGTERM', async () => {
    // On PGlite a run is triggered while no scheduler holds the store; standalone then picks it up.
    const trig = await forge(env, 'trigger', 'standalone_demo')
    expect(trig.code).toBe(0)
    const runId = trig.stdout.trim()
    const sa = spawnForge({ ...env, FORGE_LOG_LEVEL: 'info' }, 'standalone')
    try {
      await waitFor('standalone to hold the store', () => existsSync(lock))
      const second = await forge(env, 'runs', 'list')
      expect(second.code).toBe(2)
      expect(second.stderr.trim()).toBe(
        `forge: the embedded store ${join(home, 'state', 'pgdata')} is in use by process ${sa.child.pid}; stop it, or set FORGE_DATABASE_URL to a Postgres database so several forge processes can share state`,
      )
      await waitFor('the run to finish', () => sa.stderr().includes(`"run":"${runId}","state":"success","msg":"run finished"`))
    } finally {
      sa.child.kill('SIGTERM')
    }
    expect(await Promise.race([sa.exited, new Promise((r) => setTimeout(() => r('still running'), 60_000))])).toBe(0)
    expect(existsSync(lock)).toBe(false)
    const runs = JSON.parse((await forge(env, 'runs', 'list', '--json')).stdout)
    expect(runs.map((r: { run_id: string; state: string }) => [r.run_id, r.state])).toEqual([[runId, 'success']])
  }, 600_000)
})

describe.skipIf(!ADMIN_URL)('forge standalone on Postgres', () => {
  let drop = async () => {}
  afterAll(() => drop())

  it('migrates a fresh database, runs a run triggered while it runs, and stops on SIGTERM', async () => {
    const db = await createTestDatabase()
    drop = db.drop
    const { dags, env } = forgeHome('forge-standalone-pg-', db.url)
    writeFileSync(join(dags, 'standalone_demo.dag.ts'), DAG)
    const sa = spawnForge(env, 'standalone')
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    try {
      const dagKnown = async () => {
        try {
          return (await client.query(`select 1 from dag where dag_id = 'standalone_demo'`)).rowCount === 1
        } catch {
          return false // not migrated yet
        }
      }
      // Standalone alone migrated the database and processed the DAG folder: nothing else has touched it.
      await waitFor('standalone to migrate and process the DAGs', dagKnown)
      const trig = await forge(env, 'trigger', 'standalone_demo')
      expect(trig.code).toBe(0)
      const runId = trig.stdout.trim()
      const state = async () => (await client.query(`select state from dag_run where run_id = $1`, [runId])).rows[0]?.state
      await waitFor('the run to succeed', async () => (await state()) === 'success')
    } finally {
      await client.end()
      sa.child.kill('SIGTERM')
    }
    expect(await Promise.race([sa.exited, new Promise((r) => setTimeout(() => r('still running'), 60_000))])).toBe(0)
  }, 600_000)
})
