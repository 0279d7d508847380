import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TrainingError } from '../../../operators/training/errors.ts'
import { runProcess } from '../../../operators/training/run-process.ts'
import { living } from '../../helpers/processes.ts'

let work: string
let logs: Array<{ line: string; stream?: unknown }>
const log = (line: string, fields?: Record<string, unknown>): void => void logs.push({ line, stream: fields?.stream })
const node = process.execPath

beforeEach(async () => {
  logs = []
  work = await mkdtemp(path.join(tmpdir(), 'forge-proc-'))
})
afterEach(async () => {
  await rm(work, { recursive: true, force: true })
})

async function script(name: string, body: string): Promise<string> {
  const file = path.join(work, name)
  await writeFile(file, body)
  return file
}

describe('runProcess', () => {
  it('streams stdout and stderr to the log line by line and keeps the last stdout line', async () => {
    const s = await script(
      't.mjs',
      `console.log('one'); console.error('warn'); console.log(''); console.log('{"type":"training_result","metrics":{}}')`,
    )
    const r = await runProcess({ argv: [node, s], env: {}, killGraceMs: 1000 }, { log })
    expect(r.lastLine).toBe('{"type":"training_result","metrics":{}}')
    expect(logs).toEqual(
      expect.arrayContaining([
        { line: 'one', stream: 'stdout' },
        { line: 'warn', stream: 'stderr' },
      ]),
    )
  })

  it('gives the process only the environment it is handed', async () => {
    const s = await script(
      'env.mjs',
      `console.log(JSON.stringify(Object.keys(process.env).filter((k) => !k.startsWith('NODE_') && k !== '_').sort()))`,
    )
    const r = await runProcess({ argv: [node, s], env: { FORGE_DATASET_PATH: '/d', ONLY: '1' }, killGraceMs: 1000 }, { log })
    expect(JSON.parse(r.lastLine!)).toEqual(['FORGE_DATASET_PATH', 'ONLY'])
  })

  it('an argument is never read by a shell', async () => {
    const s = await script('argv.mjs', `console.log(JSON.stringify(process.argv.slice(2)))`)
    const r = await runProcess({ argv: [node, s, '$(touch pwned); echo', '*'], env: {}, cwd: work, killGraceMs: 1000 }, { log })
    expect(JSON.parse(r.lastLine!)).toEqual(['$(touch pwned); echo', '*'])
  })

  it('a non-zero exit is a retryable failure naming the code', async () => {
    const s = await script('fail.mjs', `console.error('out of memory'); process.exit(3)`)
    const err = (await runProcess({ argv: [node, s], env: {}, killGraceMs: 1000 }, { log }).catch((e: unknown) => e)) as TrainingError
    expect(err).toBeInstanceOf(TrainingError)
    expect(err).toMatchObject({ reason: 'trainer_failed', nonRetryable: false })
    expect(err.message).toMatch(/exited with code 3/)
  })

  it('a program that does not exist fails clearly', async () => {
    await expect(runProcess({ argv: [path.join(work, 'no-such-trainer')], env: {}, killGraceMs: 1000 }, { log })).rejects.toThrow(/no-such-trainer/)
  })

  it('an abort kills the whole process group, children that ignore SIGTERM included', async () => {
    const s = await script(
      'tree.mjs',
      `
      import { spawn } from 'node:child_process'
      const c = spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'], { stdio: 'ignore' })
      process.on('SIGTERM', () => {})
      console.log(JSON.stringify({ pid: process.pid, child: c.pid }))
      setInterval(() => {}, 1000)`,
    )
    const ac = new AbortController()
    let pids: { pid: number; child: number } | null = null
    const running = runProcess(
      { argv: [node, s], env: {}, killGraceMs: 300 },
      {
        log,
        signal: ac.signal,
        onStdout: (line) => {
          pids = JSON.parse(line) as { pid: number; child: number }
          setTimeout(() => ac.abort(new Error('cancelled by the test')), 200)
        },
      },
    )
    await expect(running).rejects.toThrow(/cancelled by the test/)
    expect(pids).not.toBeNull()
    const group = pids!.pid
    try {
      for (let i = 0; i < 50 && living(-group).length; i++) await new Promise((r) => setTimeout(r, 100))
      expect(living(-group)).toEqual([])
      expect(living(pids!.child)).toEqual([])
    } finally {
      for (const p of [...living(-group), ...living(pids!.child)]) process.kill(p, 'SIGKILL') // no survivor outlives a failed test
    }
  })
})
