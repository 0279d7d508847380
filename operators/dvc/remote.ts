/**
 * A DVC remote as two operations, `head` and `put`, on keys in DVC's layout (`files/md5/xx/rest` under the
 * remote's URL, docs/dvc-format.md §5), plus `get` for pulling. The local-folder remote is here; an object store
 * plugs in its own functions through `objectStoreRemote` (an S3 client's HeadObject, PutObject and GetObject).
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { DvcError } from './errors.ts'
import { pathExists, writeObjectFile, type ObjectBody } from './object-file.ts'

export type { ObjectBody }

export interface RemoteStore {
  /** The URL DVC's config names (`/abs/folder`, `s3://bucket/prefix`). */
  readonly url: string
  /** Whether the object under `key` (relative to the URL, e.g. 'files/md5/ab/cdef…') already exists. */
  head(key: string): Promise<boolean>
  put(key: string, body: ObjectBody): Promise<void>
  /** The object's bytes as a stream, or null when the remote does not have it (needed only to pull). */
  get?(key: string): Promise<Readable | null>
}

/** The functions an object store gives; `key` here is the full key in the bucket (the URL's prefix included). */
export interface ObjectStoreFunctions {
  head(bucket: string, key: string): Promise<boolean>
  put(bucket: string, key: string, body: ObjectBody): Promise<void>
  get?(bucket: string, key: string): Promise<Readable | null>
}

export function parseBucketUrl(url: string): { scheme: string; bucket: string; prefix: string } {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)\/?(.*)$/.exec(url)
  if (!m) throw new DvcError(`remote URL ${JSON.stringify(url)} is not of the form s3://bucket[/prefix]`, 'bad_remote_url')
  return { scheme: m[1]!, bucket: m[2]!, prefix: m[3]!.replace(/\/+$/, '') }
}

export function objectStoreRemote(url: string, fns: ObjectStoreFunctions): RemoteStore {
  const { bucket, prefix } = parseBucketUrl(url)
  const full = (key: string): string => (prefix ? `${prefix}/${key}` : key)
  return {
    url,
    head: (key) => fns.head(bucket, full(key)),
    put: (key, body) => fns.put(bucket, full(key), body),
    ...(fns.get ? { get: (key: string) => fns.get!(bucket, full(key)) } : {}),
  }
}

/** A folder on this machine (or a mounted share) used as a remote. */
export function localFolderRemote(folder: string): RemoteStore {
  const root = path.resolve(folder)
  const at = (key: string): string => path.join(root, ...key.split('/'))
  const get = async (key: string): Promise<Readable | null> => {
    // Opened first so that a missing object is a null here, not an error event on the stream later.
    const fh = await open(at(key), 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null
      throw err
    })
    return fh && createReadStream('', { fd: fh })
  }
  return { url: root, head: (key) => pathExists(at(key)), put: (key, body) => writeObjectFile(at(key), body), get }
}
