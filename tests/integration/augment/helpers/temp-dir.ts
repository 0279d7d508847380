/** Temp folders for the augment tests, removed after the test file (augmented shards write megabytes). */
import { afterAll } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

const created: string[] = []
afterAll(async () => {
  await Promise.all(created.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

export async function tempDir(prefix = 'augment-'): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), prefix))
  created.push(d)
  return d
}
