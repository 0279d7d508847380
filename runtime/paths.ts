/**
 * Guards for user-supplied names that become parts of file paths (scenario and shard names, run and task ids in
 * dataset folders): a name like `..` must never write, or delete, outside the folder it was meant for.
 */
import path from 'node:path'
import { TaskFailure } from './errors.ts'

/** A name or path refused because it would leave its folder; non-retryable, since a retry cannot fix it. */
export class UnsafePathError extends TaskFailure {
  constructor(
    message: string,
    readonly what: string,
    readonly value: string,
  ) {
    super(message, 'UnsafePathError', true)
  }
}

/**
 * Returns `name` if it is usable as one path segment, else throws naming `what` and the value: refuses '', '.',
 * '..', '/' and '\' (a separator on Windows, and never meant inside one name) and NUL. Other characters, ':'
 * included (run ids carry ISO timestamps), are the caller's business.
 */
export function safeSegment(name: string, what: string): string {
  const shown = JSON.stringify(name)
  if (typeof name !== 'string' || name === '') throw new UnsafePathError(`${what} must not be empty`, what, String(name))
  if (name === '.' || name === '..')
    throw new UnsafePathError(`${what} ${shown} is not a folder name: it names the folder itself or its parent`, what, name)
  if (/[/\\]/.test(name)) throw new UnsafePathError(`${what} ${shown} must not contain a path separator ('/' or '\\')`, what, name)
  if (name.includes('\0')) throw new UnsafePathError(`${what} ${shown} must not contain a NUL character`, what, name)
  return name
}

/**
 * `path.resolve(base, ...segments)`, checked to lie strictly inside `base` (never `base` itself, which a caller
 * that empties its folder first would wipe). Symbolic links are not followed.
 */
export function insideFolder(base: string, ...segments: string[]): string {
  const root = path.resolve(base)
  const joined = segments.join('/')
  if (joined.includes('\0')) throw new UnsafePathError(`path ${JSON.stringify(joined)} must not contain a NUL character`, 'path', joined)
  const target = path.resolve(root, ...segments)
  const rel = path.relative(root, target)
  if (rel === '' || rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel)) {
    throw new UnsafePathError(`path ${JSON.stringify(joined)} is not inside the folder ${root}`, 'path', joined)
  }
  return target
}
