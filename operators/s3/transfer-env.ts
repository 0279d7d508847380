/**
 * What a transfer needs from whoever runs it: the narrow surface the operator SDK's context will provide
 * (heartbeat details that come back to the next attempt as `previousDetails`, an abort signal, progress, a log).
 */
import { z } from 'zod'

export interface TransferLogger {
  (message: string, fields?: Record<string, unknown>): void
}

export interface TransferEnv {
  signal?: AbortSignal
  log?: TransferLogger
  progress?(done: number, total: number | null, unit: string): void
  /** Records resume state; the runner hands the last one recorded to the next attempt. */
  heartbeat?(details: UploadDetails): void | Promise<void>
  /** What the previous attempt last recorded, if anything (checked here: it may be from another version). */
  previousDetails?: unknown
}

const partSchema = z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1) })

/** One multipart upload in progress: enough to continue it from another process. */
const multipartSchema = z.object({
  uploadId: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().min(0),
  partSize: z.number().int().min(1),
  parts: z.array(partSchema),
})

export const uploadDetailsSchema = z.object({
  s3Upload: z.object({
    /** The s3:// URL of the prefix, so details for another destination are never applied. */
    url: z.string(),
    /** By key relative to the prefix. */
    multipart: z.record(z.string(), multipartSchema),
  }),
})

export type UploadDetails = z.infer<typeof uploadDetailsSchema>
export type MultipartState = z.infer<typeof multipartSchema>
export type UploadedPart = z.infer<typeof partSchema>

/** The recorded multipart uploads for `url`, or none when the details are absent, foreign or malformed. */
export function recordedUploads(previous: unknown, url: string, log?: TransferLogger): Record<string, MultipartState> {
  if (previous === undefined || previous === null) return {}
  const res = uploadDetailsSchema.safeParse(previous)
  if (!res.success) {
    log?.('previous attempt details are not an s3 upload record; starting over', { issue: res.error.issues[0]?.message })
    return {}
  }
  if (res.data.s3Upload.url !== url) return {}
  return res.data.s3Upload.multipart
}
