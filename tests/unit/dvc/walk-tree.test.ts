import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { walkFiles } from '../../../operators/dvc/walk-tree.ts'

describe('walkFiles: the files a DVC directory manifest lists', () => {
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'forge-walk-'))
  })
  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('lists files at every depth in relpath order, follows links to files and skips linked and ignored directories', async () => {
    const outside = await mkdtemp(path.join(tmpdir(), 'forge-walk-outside-'))
    try {
      await mkdir(path.join(root, 'b', 'c'), { recursive: true })
      await mkdir(path.join(root, '.git'))
      await mkdir(path.join(root, 'empty'))
      await writeFile(path.join(root, 'b', 'c', 'deep.txt'), 'deep')
      await writeFile(path.join(root, 'a.txt'), 'a')
      await writeFile(path.join(root, '.git', 'HEAD'), 'ref')
      await writeFile(path.join(outside, 'target.bin'), 'twelve bytes')
      await symlink(path.join(outside, 'target.bin'), path.join(root, 'linked.bin'))
      await symlink(outside, path.join(root, 'linked-dir'))
      const walked = await walkFiles(root)
      expect(walked.map((w) => w.relpath)).toEqual(['a.txt', 'b/c/deep.txt', 'linked.bin'])
      expect(walked.map((w) => Number(w.stat.size))).toEqual([1, 4, 12])
      expect(walked[2]!.abs).toBe(path.join(root, 'linked.bin'))
    } finally {
      await rm(outside, { recursive: true, force: true })
    }
  })

  it('names a broken symlink and a FIFO instead of skipping them', async () => {
    await symlink(path.join(root, 'gone'), path.join(root, 'dangling'))
    await expect(walkFiles(root)).rejects.toThrow(`${path.join(root, 'dangling')}: cannot read it`)
    await rm(path.join(root, 'dangling'))
    execFileSync('mkfifo', [path.join(root, 'pipe')])
    await expect(walkFiles(root)).rejects.toThrow(`${path.join(root, 'pipe')}: not a regular file`)
  })
})
