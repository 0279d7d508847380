/**
 * File hashing for DVC 3: the plain md5 of the raw bytes, no CRLF normalisation (docs/dvc-format.md §2).
 */
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'

/** Returns a file's lowercase hex md5; injectable so callers (and tests) can count or replace hashing. */
export type FileHasher = (file: string) => Promise<string>

const CHUNK = 1 << 20

export const md5File: FileHasher = async (file) => {
  const hash = createHash('md5')
  const fh = await open(file, 'r')
  try {
    const buf = Buffer.allocUnsafe(CHUNK)
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null)
      if (bytesRead === 0) break
      hash.update(bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead))
    }
  } finally {
    await fh.close()
  }
  return hash.digest('hex')
}
