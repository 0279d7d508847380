/**
 * s3:// URLs, object keys and the local paths they map to. A key from a remote listing or manifest is split on '/'
 * and every segment checked, so no key (`../x`, `a//b`, an absolute path) can write outside the destination folder.
 */
import path from 'node:path'
import { insideFolder, safeSegment, UnsafePathError } from '../../runtime/index.ts'

export interface S3Location {
  bucket: string
  /** '' or ends with '/'. */
  prefix: string
}

export const MANIFEST_NAME = 'manifest.json'

/** Parses `s3://bucket/prefix/` (the trailing slash is implied). */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url)
  if (!m) throw new UnsafePathError(`${JSON.stringify(url)} is not an s3:// URL (s3://bucket/prefix/)`, 's3 url', url)
  const bucket = m[1]!
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new UnsafePathError(`bucket ${JSON.stringify(bucket)} in ${url} is not a valid S3 bucket name`, 'bucket', bucket)
  }
  let prefix = m[2] ?? ''
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/'
  if (prefix !== '') checkRelativeKey(prefix.slice(0, -1), 'prefix')
  return { bucket, prefix }
}

export function formatS3Url(loc: S3Location, rel = ''): string {
  return `s3://${loc.bucket}/${loc.prefix}${rel}`
}

/** Throws unless `rel` is a relative key of plain segments: no '', '.', '..', backslash or NUL between slashes. */
export function checkRelativeKey(rel: string, what = 'object key'): string {
  if (typeof rel !== 'string' || rel === '') throw new UnsafePathError(`${what} must not be empty`, what, String(rel))
  for (const segment of rel.split('/')) safeSegment(segment, `${what} ${JSON.stringify(rel)} segment`)
  return rel
}

/** The local file for a key relative to the prefix, checked to lie inside `folder`. */
export function localPathFor(folder: string, rel: string): string {
  return insideFolder(folder, ...checkRelativeKey(rel).split('/'))
}

/** The relative key for a file found under `folder` (posix separators). */
export function relativeKeyFor(folder: string, file: string): string {
  return checkRelativeKey(path.relative(folder, file).split(path.sep).join('/'), 'local file')
}
