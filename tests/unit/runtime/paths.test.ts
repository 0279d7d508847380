import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { insideFolder, safeSegment, TaskFailure, UnsafePathError } from '../../../runtime/index.ts'

function refusal(fn: () => unknown): UnsafePathError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(UnsafePathError)
    return err as UnsafePathError
  }
  throw new Error('not refused')
}

describe('safeSegment', () => {
  it('passes ordinary names through, run ids with colons included', () => {
    for (const name of ['Town01__ClearNoon__seed3', 'shard-1.v2', 'manual__2026-12-02T01:00:00.000Z_ab12cd', '...', '.hidden', 'a..b']) {
      expect(safeSegment(name, 'shard name')).toBe(name)
    }
  })

  it.each([
    ['', 'shard name must not be empty'],
    ['.', 'shard name "." is not a folder name: it names the folder itself or its parent'],
    ['..', 'shard name ".." is not a folder name: it names the folder itself or its parent'],
    ['../x', `shard name "../x" must not contain a path separator ('/' or '\\')`],
    ['a/b', `shard name "a/b" must not contain a path separator ('/' or '\\')`],
    ['/etc', `shard name "/etc" must not contain a path separator ('/' or '\\')`],
    ['a\\b', `shard name "a\\\\b" must not contain a path separator ('/' or '\\')`],
    ['a\0b', 'shard name "a\\u0000b" must not contain a NUL character'],
  ])('refuses %j, naming the field and the value', (name, message) => {
    const err = refusal(() => safeSegment(name, 'shard name'))
    expect(err.message).toBe(message)
    expect(err).toMatchObject({ what: 'shard name', value: name })
    // A task that hits it fails without spending its retries.
    expect(err).toBeInstanceOf(TaskFailure)
    expect(err.nonRetryable).toBe(true)
  })
})

describe('insideFolder', () => {
  const base = '/data/out'

  it('resolves paths inside the folder', () => {
    expect(insideFolder(base, 'shard')).toBe('/data/out/shard')
    expect(insideFolder(base, 'a', 'b/c')).toBe('/data/out/a/b/c')
    expect(insideFolder(base, 'a/../b')).toBe('/data/out/b')
    expect(insideFolder(base, '..x')).toBe('/data/out/..x')
    expect(insideFolder('relative/out', 'x')).toBe(path.resolve('relative/out', 'x'))
  })

  it.each([['..'], ['../x'], ['a/../..'], ['/etc'], ['.'], [''], ['a/..'], ['../out-other']])('refuses %j, which is not strictly inside', (seg) => {
    const err = refusal(() => insideFolder(base, seg))
    expect(err.message).toBe(`path ${JSON.stringify(seg)} is not inside the folder /data/out`)
  })

  it('refuses a NUL', () => {
    expect(refusal(() => insideFolder(base, 'a\0b')).message).toBe('path "a\\u0000b" must not contain a NUL character')
  })
})
