/**
 * A shard's progress journal, so a retried attempt resumes instead of starting over. One JSON line per finished
 * frame (its result, with each written file's size and SHA-256, paths relative to the shard) is appended as the
 * frame completes; the first line names the source manifest and recipe it belongs to. On the next try a frame is
 * skipped only when its line is whole and every file it lists is still there with those bytes; anything else is
 * done again. Frame files are written under a `.partial` name and renamed, so a file cut off mid-write never has
 * its final name; leftovers are removed when resuming. The journal is deleted once the manifest is written.
 */
import { createHash } from 'node:crypto'
import { mkdir, open, readdir, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { insideFolder } from '../../runtime/index.ts'
import { digestFile } from '../../runtime/operator.ts'
import { PARTIAL_SUFFIX, type FrameResult } from './augment-frame.ts'

export const PROGRESS_FILE = '.augment-progress.jsonl'

/** What a journal is valid for: the same source shard and recipe give the same bytes. */
export interface ProgressKey {
  sourceManifestSha256: string
  recipeSha256: string
}

interface Line {
  index: number
  frame: number
  result: FrameResult
}

export class ShardProgress {
  private chain: Promise<void> = Promise.resolve()
  private closed = false

  private constructor(
    private readonly dir: string,
    private readonly file: string,
    /** Open for appending for the whole shard: one write per frame, not an open, write and close. */
    private readonly handle: FileHandle,
    /** Frames verified complete, by their index in the source shard. */
    readonly done: ReadonlyMap<number, FrameResult>,
  ) {}

  /**
   * Resumes the journal in `dir` when it was written for `key`; otherwise empties `dir` (a retry leaves no stale
   * frame) and starts a new one. `frames[i]` is the frame number the i-th source frame must have.
   */
  static async open(dir: string, key: ProgressKey, frames: readonly number[]): Promise<ShardProgress> {
    const file = insideFolder(dir, PROGRESS_FILE)
    const lines = await readLines(file)
    const header = lines.length > 0 ? parse(lines[0]!) : null
    if (!header || header.sourceManifestSha256 !== key.sourceManifestSha256 || header.recipeSha256 !== key.recipeSha256) {
      await rm(dir, { recursive: true, force: true })
      await mkdir(dir, { recursive: true })
      await writeFile(file, JSON.stringify({ journal: 1, ...key }) + '\n')
      return new ShardProgress(dir, file, await open(file, 'a'), new Map())
    }
    await removePartials(dir)
    const done = new Map<number, FrameResult>()
    for (const text of lines.slice(1)) {
      const line = parse(text) as Line | null
      if (!line || frames[line.index] !== line.frame || !Array.isArray(line.result?.files)) continue // not a frame's record
      const result = { ...line.result, files: line.result.files.map((f) => ({ ...f, path: insideFolder(dir, ...f.path.split('/')) })) }
      if (await intact(result)) done.set(line.index, result)
      else done.delete(line.index)
    }
    return new ShardProgress(dir, file, await open(file, 'a'), done)
  }

  /** Appends a finished frame; appends are chained, so lines never interleave. */
  record(index: number, result: FrameResult): Promise<void> {
    const rel = result.files.map((f) => ({ ...f, path: path.relative(this.dir, f.path).split(path.sep).join('/') }))
    const line: Line = { index, frame: result.frame, result: { ...result, files: rel } }
    this.chain = this.chain.then(async () => void (await this.handle.write(JSON.stringify(line) + '\n')))
    return this.chain
  }

  /** Closes the journal, whether or not the shard was finished; waits for the lines being written. */
  async close(): Promise<void> {
    await this.chain.catch(() => undefined)
    if (this.closed) return
    this.closed = true
    await this.handle.close()
  }

  /** After the manifest is written: the folder then holds the shard alone. */
  async remove(): Promise<void> {
    await this.close()
    await rm(this.file, { force: true })
  }
}

/** The journal's whole lines; a last line without its newline was cut off and is dropped. */
async function readLines(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return ''
    throw e
  })
  return text.split('\n').slice(0, -1)
}

function parse(text: string): (Partial<ProgressKey> & Record<string, unknown>) | null {
  try {
    const v: unknown = JSON.parse(text)
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

async function intact(result: FrameResult): Promise<boolean> {
  for (const f of result.files) {
    const size = await stat(f.path).then(
      (s) => s.size,
      () => -1,
    )
    if (size !== f.bytes) return false
    // Off the main thread, which hands frames to the augment workers meanwhile.
    if ((await digestFile(f.path, 'sha256')).digest !== f.sha256) return false
  }
  return true
}

async function removePartials(dir: string): Promise<void> {
  const names = await readdir(dir, { recursive: true })
  await Promise.all(names.filter((n) => n.endsWith(PARTIAL_SUFFIX)).map((n) => rm(path.join(dir, n), { force: true })))
}

export const sha256Of = (text: string): string => createHash('sha256').update(text).digest('hex')
