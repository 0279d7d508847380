/**
 * manifest.json: every object of a prefix with its size and SHA-256. It is written after the last object is
 * confirmed, so its presence is what makes a prefix complete; a download trusts nothing else.
 */
import { z } from 'zod'
import { S3ManifestError } from './errors.ts'
import { checkRelativeKey } from './location.ts'

export const MANIFEST_FORMAT = 'adas-forge/s3-manifest'

const entrySchema = z.object({
  key: z.string().min(1),
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
})

export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  version: z.literal(1),
  createdAt: z.string(),
  totalBytes: z.number().int().min(0),
  objects: z.array(entrySchema),
})

export type Manifest = z.infer<typeof manifestSchema>
export type ManifestEntry = z.infer<typeof entrySchema>

export function buildManifest(objects: ManifestEntry[], now = new Date()): Manifest {
  const sorted = [...objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return {
    format: MANIFEST_FORMAT,
    version: 1,
    createdAt: now.toISOString(),
    totalBytes: sorted.reduce((n, o) => n + o.size, 0),
    objects: sorted,
  }
}

/** Parses a manifest's bytes; `url` names it in errors. Keys are checked here, before anything touches the disk. */
export function parseManifest(bytes: Uint8Array, url: string): Manifest {
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch (err) {
    throw new S3ManifestError(`${url} is not JSON: ${(err as Error).message}`, url)
  }
  const res = manifestSchema.safeParse(json)
  if (!res.success) {
    const issue = res.error.issues[0]!
    throw new S3ManifestError(`${url} is not an adas-forge manifest: ${issue.path.join('.') || '(root)'}: ${issue.message}`, url)
  }
  const seen = new Set<string>()
  for (const o of res.data.objects) {
    checkRelativeKey(o.key, `key in ${url}`)
    if (seen.has(o.key)) throw new S3ManifestError(`${url} lists ${JSON.stringify(o.key)} twice`, url)
    seen.add(o.key)
  }
  return res.data
}
