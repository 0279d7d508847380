/** SHA-256 of files and buffers, hex: the digest stored as x-amz-meta-sha256 and in the manifest. */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'

export const DIGEST_METADATA = 'sha256'

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, signal })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
