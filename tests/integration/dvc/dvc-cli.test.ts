import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Command } from 'commander'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { dvcAddCommand, registerDvcCommands } from '../../../operators/dvc/cli.ts'
import { dvcAdd } from '../../../operators/dvc/dvc-add.operator.ts'
import { dvcOnPath } from '../../../operators/dvc/dvc-cli.ts'
import { versionDataset } from '../../../operators/dvc/version-dataset.ts'
import type { TaskContext } from '../../../runtime/index.ts'

let work: string
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'forge-dvc-cli-'))
  await mkdir(path.join(work, 'repo', 'frames'), { recursive: true })
  await writeFile(path.join(work, 'repo', 'frames', '000001.png'), 'png-bytes')
})
afterEach(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('forge dvc add', () => {
  it('dvcAddCommand resolves PATH and --repo against the working directory and prints the .dvc file and tag', async () => {
    const lines: string[] = []
    const notices: string[] = []
    const r = await dvcAddCommand({
      path: 'repo/frames',
      repo: 'repo',
      remote: 'store',
      dataset: 'frames',
      cwd: work,
      engine: 'native',
      print: (l) => lines.push(l),
      notice: (l) => notices.push(l),
      tty: false,
    })
    expect(lines[0]).toBe(`frames.dvc  ${r.md5}  1 files  9 bytes`)
    expect(lines[1]).toBe(`frames@v1  ${r.commit}`)
    expect(r.remote?.url).toBe(path.join(work, 'store'))
    expect(notices.some((n) => n.startsWith('pushed to '))).toBe(true)
    expect(notices).toContain('1/1 files hashed')
    expect(notices).toContain('1/1 objects pushed')
  })

  it('progress off a terminal: the first item, then a line per tenth, per unit', async () => {
    const { progressReporter } = await import('../../../operators/dvc/cli.ts')
    const out: string[] = []
    const report = progressReporter(false, (l) => out.push(l))
    for (let i = 1; i <= 100; i++) report(i, 100, 'files hashed')
    report(1, 2, 'objects pushed')
    report(2, 2, 'objects pushed')
    expect(out).toEqual([
      '1/100 files hashed',
      ...Array.from({ length: 10 }, (_, k) => `${(k + 1) * 10}/100 files hashed`),
      '1/2 objects pushed',
      '2/2 objects pushed',
    ])
  })

  it('registerDvcCommands adds `dvc add` to a commander program', async () => {
    const program = new Command().exitOverride()
    registerDvcCommands(program)
    const out: string[] = []
    const write = process.stdout.write
    process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write
    const err = process.stderr.write
    process.stderr.write = (() => true) as typeof process.stderr.write
    try {
      await program.parseAsync(['dvc', 'add', path.join(work, 'repo', 'frames'), '--repo', path.join(work, 'repo'), '--native', '--json'], {
        from: 'user',
      })
    } finally {
      process.stdout.write = write
      process.stderr.write = err
    }
    const printed = JSON.parse(out.join('')) as { dvcFile: string; nfiles: number; tag: string | null }
    expect(printed).toMatchObject({ dvcFile: 'frames.dvc', nfiles: 1, tag: null })
    expect(await readFile(path.join(work, 'repo', 'frames.dvc'), 'utf8')).toContain('  path: frames\n')
  })

  it('dvcAdd is a dvc.add task spec that versions its (resolved) inputs', async () => {
    const spec = dvcAdd({ repo: path.join(work, 'repo'), path: 'frames', dataset: 'frames', engine: 'native' })
    expect(spec).toMatchObject({ kind: 'function', operator: 'dvc.add' })
    const logs: string[] = []
    const ctx = {
      inputs: spec.inputs,
      log: (m: string) => logs.push(m),
      progress: () => {},
      signal: new AbortController().signal,
    } as unknown as TaskContext<unknown, never>
    const r = await spec.run(ctx)
    expect(r).toMatchObject({ tag: 'frames@v1', nfiles: 1, engine: 'native' })
    expect(logs.some((l) => l.includes('no remote configured'))).toBe(true)
  })
})

// Runs only where the real `dvc` is installed: both engines must write the same .dvc text.
describe.skipIf(!(await dvcOnPath()))('with dvc on PATH', () => {
  it('dvc add and the native writer give byte-identical .dvc files', async () => {
    const a = path.join(work, 'a')
    const b = path.join(work, 'b')
    for (const repo of [a, b]) {
      execFileSync('cp', ['-r', path.join(work, 'repo'), repo])
    }
    const viaDvc = await versionDataset({ repo: a, path: 'frames', engine: 'auto' })
    const viaNative = await versionDataset({ repo: b, path: 'frames', engine: 'native' })
    expect(viaDvc.engine).toBe('dvc')
    expect(await readFile(path.join(a, 'frames.dvc'), 'utf8')).toBe(await readFile(path.join(b, 'frames.dvc'), 'utf8'))
  })
})
