/**
 * Fetching one object from a remote into the cache, verified: the bytes are hashed as they stream into a temp
 * file beside the object, and only bytes whose md5 is the object's id are renamed into place (docs/dvc-format.md
 * §2-4). An object already in the cache is hashed again before it is trusted, so a resumed pull re-fetches a
 * corrupt one instead of checking it out.
 */
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { chmod, mkdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { cacheObjectPath } from './cache.ts'
import { md5File } from './hash-file.ts'
import { OBJECT_MODE, pathExists } from './object-file.ts'
import { objectKey } from './object-path.ts'
import type { RemoteStore } from './remote.ts'

export type FetchOutcome =
  { kind: 'cached' } | { kind: 'fetched'; bytes: number } | { kind: 'missing'; key: string } | { kind: 'corrupt'; actual: string }

/** The md5 an object's bytes must have: its id without the '.dir' suffix. */
export const expectedMd5 = (oid: string): string => oid.replace(/\.dir$/, '')

export async function cachedObjectValid(cacheDir: string, oid: string): Promise<boolean> {
  const file = cacheObjectPath(cacheDir, oid)
  if (!(await pathExists(file))) return false
  if ((await md5File(file)) === expectedMd5(oid)) return true
  await rm(file, { force: true })
  return false
}

export async function fetchObject(cacheDir: string, oid: string, remote: RemoteStore, signal?: AbortSignal): Promise<FetchOutcome> {
  if (await cachedObjectValid(cacheDir, oid)) return { kind: 'cached' }
  const key = objectKey(oid)
  const body = await remote.get!(key)
  if (!body) return { kind: 'missing', key }
  const dest = cacheObjectPath(cacheDir, oid)
  await mkdir(path.dirname(dest), { recursive: true })
  const tmp = `${dest}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  const hash = createHash('md5')
  let bytes = 0
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk)
      bytes += chunk.length
      done(null, chunk)
    },
  })
  try {
    await pipeline(body, tap, createWriteStream(tmp), { signal })
    const actual = hash.digest('hex')
    if (actual !== expectedMd5(oid)) {
      await rm(tmp, { force: true })
      return { kind: 'corrupt', actual }
    }
    await chmod(tmp, OBJECT_MODE)
    await rename(tmp, dest)
    return { kind: 'fetched', bytes }
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
