/**
 * What `dvc add` computes for a path: a file's md5 and meta, or a directory's manifest, id, size and file count
 * (docs/dvc-format.md §1-3), with unchanged files' digests taken from the state cache.
 */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { md5File, type FileHasher } from './hash-file.ts'
import { dirOid, manifestBytes, type TreeEntry } from './manifest.ts'
import type { StateCache } from './state-cache.ts'
import { walkFiles } from './walk-tree.ts'

export interface BuiltFile {
  relpath: string
  abs: string
  md5: string
  size: number
}

export interface BuiltOutput {
  kind: 'file' | 'dir'
  /** The md5, with '.dir' for a directory. */
  oid: string
  size: number
  /** Directories only. */
  nfiles?: number
  /** Single files only: any execute bit set. */
  isexec?: boolean
  /** The directory's files (a single file: itself, relpath = its name). */
  files: BuiltFile[]
  /** Directories only: the manifest bytes, stored as the object named `oid`. */
  manifest?: Buffer
}

export interface BuildOptions {
  state: StateCache
  hasher?: FileHasher
  /** Files hashed at once (default 8). */
  concurrency?: number
  progress?(done: number, total: number | null, unit: string): void
  signal?: AbortSignal
}

export async function buildOutput(target: string, opts: BuildOptions): Promise<BuiltOutput> {
  const hasher = opts.hasher ?? md5File
  const st = await stat(target, { bigint: true })
  if (st.isFile()) {
    const md5 = await opts.state.md5(target, hasher, st)
    const isexec = (Number(st.mode) & 0o111) !== 0
    return {
      kind: 'file',
      oid: md5,
      size: Number(st.size),
      isexec,
      files: [{ relpath: path.basename(target), abs: target, md5, size: Number(st.size) }],
    }
  }
  const walked = await walkFiles(target)
  const files: BuiltFile[] = new Array(walked.length)
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < walked.length) {
      opts.signal?.throwIfAborted()
      const i = next++
      const w = walked[i]!
      const md5 = await opts.state.md5(w.abs, hasher, w.stat)
      files[i] = { relpath: w.relpath, abs: w.abs, md5, size: Number(w.stat.size) }
      opts.progress?.(++done, walked.length, 'files hashed')
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, worker))
  const entries: TreeEntry[] = files.map((f) => ({ relpath: f.relpath, md5: f.md5 }))
  const manifest = manifestBytes(entries)
  const size = files.reduce((sum, f) => sum + f.size, 0)
  return { kind: 'dir', oid: dirOid(manifest), size, nfiles: files.length, files, manifest }
}
