/**
 * Digests of files (md5 or SHA-256) and listings of directories on worker threads, part of the operator SDK: hashing uses the other cores while
 * the main thread drives requests. The s3 operator's SHA-256 digests double as SigV4 payload hashes, and the dvc
 * operator's md5 hashing of a tree runs here, so neither hashes on the main thread.
 */
import os from 'node:os'
import { Worker } from 'node:worker_threads'

/** The algorithms the workers compute; each reply's `digest` is lowercase hex. */
export type DigestAlgorithm = 'md5' | 'sha256'

interface Reply {
  id: number
  digest?: string
  parts?: string[]
  bytes?: ArrayBuffer
  entries?: DirectoryEntry[]
  error?: { message: string; code?: string }
}

export interface FileDigest {
  /** Lowercase hex digest of the whole file. */
  digest: string
  /** One digest per part of `partSize` bytes, when asked for. */
  parts?: string[]
}

class DigestPool {
  private readonly workers: Worker[] = []
  private readonly pending = new Map<number, { resolve(r: Reply): void; reject(e: Error): void; worker: Worker }>()
  private readonly load = new Map<Worker, number>()
  private nextId = 1

  constructor(private readonly size: number) {}

  run(message: Record<string, unknown>): Promise<Reply> {
    const worker = this.pick()
    const id = this.nextId++
    this.busy(worker, +1)
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker })
      worker.postMessage({ id, ...message })
    })
  }

  private pick(): Worker {
    if (this.workers.length < this.size) {
      const w = new Worker(new URL('./file-digest-worker.mjs', import.meta.url))
      w.on('message', (r: Reply) => this.settle(r))
      w.on('error', (err) => this.fail(w, err))
      w.unref()
      this.workers.push(w)
      this.load.set(w, 0)
    }
    return this.workers.reduce((a, b) => (this.load.get(b)! < this.load.get(a)! ? b : a))
  }

  /** A busy worker keeps the process alive; an idle one does not. */
  private busy(w: Worker, delta: number): void {
    const n = this.load.get(w)! + delta
    this.load.set(w, n)
    if (n > 0) w.ref()
    else w.unref()
  }

  private settle(r: Reply): void {
    const p = this.pending.get(r.id)
    if (!p) return
    this.pending.delete(r.id)
    this.busy(p.worker, -1)
    if (r.error) p.reject(Object.assign(new Error(r.error.message), { code: r.error.code }))
    else p.resolve(r)
  }

  private fail(w: Worker, err: Error): void {
    for (const [id, p] of this.pending) if (p.worker === w) (this.pending.delete(id), p.reject(err))
    this.workers.splice(this.workers.indexOf(w), 1)
    this.load.delete(w)
  }
}

/** A directory entry as `listDirectory` returns it: non-directories are stat'ed through symlinks. */
export interface DirectoryEntry {
  name: string
  /** What the entry is, through a symlink; `error` when its stat failed (a broken link, a race with a delete). */
  kind: 'dir' | 'file' | 'other' | 'error'
  /** Set on entries that are not plain directories. */
  link?: boolean
  dev?: bigint
  ino?: bigint
  size?: bigint
  mtimeNs?: bigint
  mode?: bigint
  error?: string
}

let pool: DigestPool | null = null
const shared = (): DigestPool => (pool ??= new DigestPool(Math.max(1, Math.min(4, os.availableParallelism()))))

/** A whole file's bytes and their digest (for objects sent in one request). */
export async function readWithDigest(file: string, algorithm: DigestAlgorithm): Promise<{ bytes: Buffer; digest: string }> {
  const r = await shared().run({ op: 'read', file, algorithm })
  return { bytes: Buffer.from(r.bytes!), digest: r.digest! }
}

/** A file's digest, and its parts' digests when `partSize` is given (for multipart objects). */
export async function digestFile(file: string, algorithm: DigestAlgorithm, partSize?: number): Promise<FileDigest> {
  const r = await shared().run({ op: 'hash', file, algorithm, partSize })
  return { digest: r.digest!, parts: r.parts }
}

/** A directory's entries with the stats of its files, read on a worker thread (several directories at once use every core). */
export async function listDirectory(dir: string): Promise<DirectoryEntry[]> {
  return (await shared().run({ op: 'list', file: dir })).entries!
}
