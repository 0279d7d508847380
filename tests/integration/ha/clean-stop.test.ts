import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../runtime/config.ts'
import { refreshDags } from '../../../runtime/scheduler/refresh-dags.ts'
import { openPostgres, type Store } from '../../../runtime/store/connect.ts'
import { migrate } from '../../../runtime/store/migrate.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { living } from '../../helpers/processes.ts'
import { ADMIN_URL, createTestDatabase } from '../../helpers/stores.ts'

const FORGE = fileURLToPath(new URL('../../../runtime/cli/forge.mjs', import.meta.url))
const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url))

describe.skipIf(!ADMIN_URL)('stopping a scheduler with SIGTERM', () => {
  let store: Store
  let url: string
  let drop: () => Promise<void>
  const dir = mkdtempSync(join(tmpdir(), 'forge-stop-'))
  const marker = join(dir, 'finished-anyway')
  const pidFile = join(dir, 'pid')

  beforeAll(async () => {
    ;({ url, drop } = await createTestDatabase())
    store = await openPostgres(url)
    await migrate(store.db)
    writeFileSync(
      join(dir, 'long.dag.ts'),
      `import { writeFileSync } from 'node:fs'
import { defineDag } from '${RUNTIME}'
export default defineDag({ id: 'long', defaults: { retries: 0 } }, (dag) => {
  dag.shell('sleeper', 'echo $$ > ${pidFile}; (sleep 5 && touch ${marker}); echo never')
})
`,
    )
  })
  afterAll(async () => {
    await store?.close()
    await drop?.()
  })

  it('cancels the running attempt, kills its processes and requeues it without spending a retry', async () => {
    const config = loadConfig({ FORGE_DATABASE_URL: url, FORGE_DAGS_FOLDER: dir })
    await refreshDags(store.db, config)
    const run = await triggerRun(store.db, 'long', {})
    const child = spawn(process.execPath, [FORGE, 'scheduler'], {
      env: { ...process.env, FORGE_DATABASE_URL: url, FORGE_DAGS_FOLDER: dir, FORGE_LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    })
    const ti = () => store.db.selectFrom('task_instance').selectAll().where('dag_run_id', '=', run.id).executeTakeFirstOrThrow()
    // The shell has started: its subshell touches the marker 5 s from now unless the stop kills it first.
    const deadline = Date.now() + 30_000
    while (!existsSync(pidFile) || !readFileSync(pidFile, 'utf8').trim()) {
      if (Date.now() > deadline) throw new Error('task never started')
      await new Promise((r) => setTimeout(r, 50))
    }
    const pgid = Number(readFileSync(pidFile, 'utf8').trim())
    const shellStarted = statSync(pidFile).mtimeMs
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    const after = await ti()
    expect(after).toMatchObject({ state: 'up_for_retry', try_number: 1, max_tries: 2, reason: 'scheduler shutting down' })
    const attempt = await store.db.selectFrom('task_attempt').selectAll().where('task_instance_id', '=', after.id).executeTakeFirstOrThrow()
    expect(attempt.state).toBe('up_for_retry')
    // The shell's whole process group is gone, and stays gone past the time its subshell would have finished.
    expect(living(-pgid)).toEqual([])
    await new Promise((r) => setTimeout(r, Math.max(0, shellStarted + 6_500 - Date.now())))
    expect(existsSync(marker)).toBe(false)
  }, 120_000)
})
