/**
 * `dvc add` done natively: hash (reusing the state cache), fill the cache, write `<name>.dvc` beside the target
 * and its `.gitignore` entry (docs/dvc-format.md §1-4, §8). The data may be read from elsewhere (`source`), as
 * `dvc add --out` does: the `.dvc` text is the same, since it names the output, not where the bytes came from.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { buildOutput, type BuiltOutput } from './build-tree.ts'
import { writeToCache } from './cache.ts'
import { dvcFileText, dvcOutOf } from './dvc-file.ts'
import { addGitignoreEntry } from './gitignore.ts'
import type { FileHasher } from './hash-file.ts'
import { StateCache } from './state-cache.ts'

export interface NativeAddResult {
  built: BuiltOutput
  /** Absolute path of the `.dvc` file. */
  dvcFile: string
  dvcText: string
  /** Absolute path of the `.gitignore` that holds the entry. */
  gitignore: string
  hashed: number
  reused: number
}

export interface NativeAddEnv {
  cacheDir: string
  stateFile: string
  hasher?: FileHasher
  concurrency?: number
  progress?(done: number, total: number | null, unit: string): void
  signal?: AbortSignal
}

export async function nativeAdd(target: string, env: NativeAddEnv, source = target): Promise<NativeAddResult> {
  const state = await StateCache.open(env.stateFile)
  let built: BuiltOutput
  try {
    built = await buildOutput(source, { state, hasher: env.hasher, concurrency: env.concurrency, progress: env.progress, signal: env.signal })
  } finally {
    await state.save() // digests computed before a failure are still worth keeping
  }
  await writeToCache(env.cacheDir, built)
  const name = path.basename(target)
  const dvcFile = path.join(path.dirname(target), `${name}.dvc`)
  const dvcText = dvcFileText(dvcOutOf(built, name))
  await mkdir(path.dirname(dvcFile), { recursive: true })
  await writeFile(dvcFile, dvcText)
  await addGitignoreEntry(target)
  return { built, dvcFile, dvcText, gitignore: path.join(path.dirname(target), '.gitignore'), hashed: state.misses, reused: state.hits }
}
