/**
 * SHA-256 of files on worker threads, so hashing uses the other cores while the main thread drives requests. The
 * digests double as the SigV4 payload hashes (see payload-hash.ts), so no body is hashed twice.
 */
import os from 'node:os'
import { Worker } from 'node:worker_threads'

interface Reply {
  id: number
  sha256?: string
  parts?: string[]
  bytes?: ArrayBuffer
  error?: { message: string; code?: string }
}

export interface FileDigest {
  sha256: string
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
      const w = new Worker(new URL('./digest-worker.mjs', import.meta.url))
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

let pool: DigestPool | null = null
const shared = (): DigestPool => (pool ??= new DigestPool(Math.max(1, Math.min(4, os.availableParallelism()))))

/** A whole file's bytes and their digest (for objects sent in one request). */
export async function readWithDigest(file: string): Promise<{ bytes: Buffer; sha256: string }> {
  const r = await shared().run({ op: 'read', file })
  return { bytes: Buffer.from(r.bytes!), sha256: r.sha256! }
}

/** A file's digest, and its parts' digests when `partSize` is given (for multipart objects). */
export async function digestFile(file: string, partSize?: number): Promise<FileDigest> {
  const r = await shared().run({ op: 'hash', file, partSize })
  return { sha256: r.sha256!, parts: r.parts }
}
