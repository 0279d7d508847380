/** Every file of an augmented shard folder, and a byte-for-byte comparison of two such folders. */
import { expect } from 'vitest'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'

/** Every file in a shard folder, by path relative to it ('/'-separated). */
export async function shardFiles(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  for (const rel of await readdir(dir, { recursive: true })) {
    const abs = path.join(dir, rel)
    if ((await stat(abs)).isFile()) out.set(rel.split(path.sep).join('/'), await readFile(abs))
  }
  return out
}

/** The same file names, each with the same bytes. */
export function expectSameFiles(want: Map<string, Buffer>, got: Map<string, Buffer>): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort())
  for (const [rel, body] of want) expect(got.get(rel)!.equals(body), rel).toBe(true)
}
