import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../runtime/config.ts'
import { refreshDags } from '../../../runtime/scheduler/refresh-dags.ts'
import { openPostgres, type Store } from '../../../runtime/store/connect.ts'
import { migrate } from '../../../runtime/store/migrate.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { ADMIN_URL, createTestDatabase } from '../../helpers/stores.ts'

const FORGE = fileURLToPath(new URL('../../../runtime/cli/forge.mjs', import.meta.url))
const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url))

describe.skipIf(!ADMIN_URL)('stopping a scheduler with SIGTERM', () => {
  let store: Store
  let url: string
  let drop: () => Promise<void>
  const dir = mkdtempSync(join(tmpdir(), 'forge-stop-'))
  const marker = join(dir, 'finished-anyway')

  beforeAll(async () => {
    ;({ url, drop } = await createTestDatabase())
    store = await openPostgres(url)
    await migrate(store.db)
    writeFileSync(join(dir, 'long.dag.ts'), `import { writeFileSync } from 'node:fs'
import { defineDag } from '${RUNTIME}'
export default defineDag({ id: 'long', defaults: { retries: 0 } }, (dag) => {
  dag.shell('sleeper', 'sleep 30 && touch ${marker}')
})
`)
  })
  afterAll(async () => {
    await store?.close()
    await drop?.()
  })

  it('cancels the running attempt, kills its processes and requeues it without spending a retry', async () => {
    const config = loadConfig({ FORGE_DATABASE_URL: url, FORGE_DAGS_FOLDER: dir })
    await refreshDags(store.db, config)
    const run = await triggerRun(store.db, 'long', {})
    const child = spawn(process.execPath, [FORGE, 'scheduler'], { env: { ...process.env, FORGE_DATABASE_URL: url, FORGE_DAGS_FOLDER: dir, FORGE_LOG_LEVEL: 'warn' }, stdio: 'ignore' })
    const ti = () => store.db.selectFrom('task_instance').selectAll().where('dag_run_id', '=', run.id).executeTakeFirstOrThrow()
    const deadline = Date.now() + 30_000
    while ((await ti()).state !== 'running') {
      if (Date.now() > deadline) throw new Error('task never started')
      await new Promise((r) => setTimeout(r, 50))
    }
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    const after = await ti()
    expect(after).toMatchObject({ state: 'up_for_retry', try_number: 1, max_tries: 2, reason: 'scheduler shutting down' })
    const attempt = await store.db.selectFrom('task_attempt').selectAll().where('task_instance_id', '=', after.id).executeTakeFirstOrThrow()
    expect(attempt.state).toBe('up_for_retry')
    // The shell's whole process group is gone (pgrep exits 1 when nothing matches the command line).
    await new Promise((r) => setTimeout(r, 300))
    const found = spawnSync('pgrep', ['-f', marker])
    expect(found.status).toBe(1)
    expect(existsSync(marker)).toBe(false)
  }, 60_000)
})
