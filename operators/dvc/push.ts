/**
 * `dvc push` for one output (docs/dvc-format.md §5): the files first, the `.dir` manifest last and only when
 * every file is on the remote, so a remote that has the manifest has the whole directory. Objects already
 * there are not sent again.
 */
import type { BuiltOutput } from './build-tree.ts'
import { cacheObjectPath } from './cache.ts'
import { DvcPushError } from './errors.ts'
import { objectKey } from './object-path.ts'
import type { RemoteStore } from './remote.ts'

export interface PushResult {
  uploaded: number
  skipped: number
  bytes: number
}

export interface PushOptions {
  /** Objects in flight at once (default 8). */
  concurrency?: number
  progress?(done: number, total: number | null, unit: string): void
  signal?: AbortSignal
}

export async function pushOutput(cacheDir: string, built: BuiltOutput, remote: RemoteStore, opts: PushOptions = {}): Promise<PushResult> {
  const unique = [...new Map(built.files.map((f) => [f.md5, f])).values()]
  const result: PushResult = { uploaded: 0, skipped: 0, bytes: 0 }
  const failures: string[] = []
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < unique.length) {
      const f = unique[next++]!
      try {
        opts.signal?.throwIfAborted()
        const key = objectKey(f.md5)
        if (await remote.head(key)) result.skipped++
        else {
          await remote.put(key, { file: cacheObjectPath(cacheDir, f.md5), size: f.size })
          result.uploaded++
          result.bytes += f.size
        }
      } catch (err) {
        failures.push(`${f.relpath}: ${(err as Error).message}`)
      }
      opts.progress?.(++done, unique.length, 'objects pushed')
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, worker))
  if (failures.length) {
    throw new DvcPushError(
      `push to ${remote.url} failed for ${failures.length} of ${unique.length} files, the .dir manifest was not uploaded: ${failures.slice(0, 3).join('; ')}`,
    )
  }
  if (built.manifest) {
    const key = objectKey(built.oid)
    try {
      if (await remote.head(key)) result.skipped++
      else {
        await remote.put(key, { bytes: built.manifest })
        result.uploaded++
        result.bytes += built.manifest.length
      }
    } catch (err) {
      throw new DvcPushError(`push to ${remote.url} failed for the manifest ${built.oid}: ${(err as Error).message}`, { cause: err })
    }
  }
  return result
}
