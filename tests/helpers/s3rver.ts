/**
 * s3rver on loopback for tests and benchmarks: a temp directory, port 0, one bucket. `kill()` drops every open
 * connection at once, as a crashed server would; `restart()` brings it back on the same port and directory.
 */
import { createRequire } from 'node:module'
import { mkdtemp, rm } from 'node:fs/promises'
import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import os from 'node:os'
import path from 'node:path'

interface S3rverInstance {
  run(): Promise<{ port: number }>
  close(): Promise<void>
  httpServer?: Server
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor

/** s3rver's default credentials; it checks signatures made with them. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }

export interface RunningS3rver {
  port: number
  endpoint: string
  dir: string
  bucket: string
  kill(): Promise<void>
  restart(): Promise<void>
  /** Kills it and removes its directory. */
  close(): Promise<void>
  /** The file s3rver keeps an object's bytes in (for corrupting it). */
  objectFile(key: string): string
}

export async function startS3rver(opts: { bucket?: string; dir?: string; port?: number } = {}): Promise<RunningS3rver> {
  const bucket = opts.bucket ?? 'test-bucket'
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 's3rver-')))
  let port = opts.port ?? 0
  let server: S3rverInstance | null = null
  const sockets = new Set<Socket>()
  const start = async (): Promise<void> => {
    const s = new S3rver({ address: '127.0.0.1', port, directory: dir, silent: true, configureBuckets: [{ name: bucket }] })
    port = (await s.run()).port
    s.httpServer!.on('connection', (sock: Socket) => {
      sockets.add(sock)
      sock.on('close', () => sockets.delete(sock))
    })
    server = s
  }
  const kill = async (): Promise<void> => {
    if (!server) return
    const s = server
    server = null
    const closed = s.close()
    for (const sock of sockets) sock.destroy()
    sockets.clear()
    await closed
  }
  await start()
  return {
    get port() {
      return port
    },
    get endpoint() {
      return `http://127.0.0.1:${port}`
    },
    dir,
    bucket,
    kill,
    restart: async () => {
      await kill()
      await start()
    },
    close: async () => {
      await kill()
      await rm(dir, { recursive: true, force: true })
    },
    objectFile: (key) => {
      const parts = key.split('/')
      return path.join(dir, bucket, ...parts.slice(0, -1), `${parts.at(-1)}._S3rver_object`)
    },
  }
}
