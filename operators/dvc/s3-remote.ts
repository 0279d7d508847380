/**
 * A DVC remote on S3 (or MinIO, Ceph…): the head/put/get of `objectStoreRemote` done with an S3Client the caller
 * configured (endpoint, region, credentials are its business). Keys follow DVC's layout under the URL's prefix
 * (docs/dvc-format.md §5); bodies are the raw bytes, streamed from the cache, and streamed back for a pull.
 */
import { createReadStream } from 'node:fs'
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import type { Readable } from 'node:stream'
import { objectStoreRemote, type ObjectStoreFunctions, type RemoteStore } from './remote.ts'

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } }
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404
}

export function s3ObjectStore(client: S3Client): ObjectStoreFunctions {
  return {
    async head(bucket, key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
        return true
      } catch (err) {
        if (isNotFound(err)) return false
        throw err
      }
    },
    async put(bucket, key, body) {
      const Body = 'file' in body ? createReadStream(body.file) : body.bytes
      const ContentLength = 'file' in body ? body.size : body.bytes.length
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body, ContentLength }))
    },
    async get(bucket, key) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        return r.Body as Readable
      } catch (err) {
        if (isNotFound(err)) return null
        throw err
      }
    },
  }
}

/** `s3://bucket/prefix` as a DVC remote through `client`. */
export function s3Remote(url: string, client: S3Client): RemoteStore {
  return objectStoreRemote(url, s3ObjectStore(client))
}
