/**
 * The S3 operator's options, as a zod schema so the runtime's config slice for `s3` can reuse it. Credentials are
 * not options: the client takes them from the standard AWS chain (environment, shared files, instance roles).
 */
import { z } from 'zod'
import { S3OptionsError } from './errors.ts'

const MiB = 1024 * 1024

export const s3OptionsSchema = z.object({
  /** A custom endpoint for S3-compatible servers (MinIO, Ceph, s3rver); unset means AWS. */
  endpoint: z.url().optional(),
  region: z.string().min(1).default('us-east-1'),
  /** `http://host/bucket/key` instead of `http://bucket.host/key`; most S3-compatible servers need it. */
  forcePathStyle: z.boolean().default(false),
  /**
   * The SDK's flexible checksums. 'when_required' is needed by servers that store the aws-chunked framing of a
   * streamed body instead of decoding it (s3rver does); integrity is ours anyway (a SHA-256 per object).
   */
  checksums: z.enum(['when_supported', 'when_required']).default('when_required'),
  /** Objects at or above this size go up in parts; below it, one PutObject. */
  multipartThreshold: z
    .number()
    .int()
    .min(5 * MiB)
    .default(16 * MiB),
  /** Part size; S3 wants at least 5 MiB (all but the last part) and at most 10,000 parts. */
  partSize: z
    .number()
    .int()
    .min(5 * MiB)
    .max(5 * 1024 * MiB)
    .default(8 * MiB),
  /** Objects transferred at once; the small ones are held whole in memory while they are sent. */
  concurrency: z.number().int().min(1).max(256).default(16),
  /** Parts in flight at once, across all objects: at most this many part buffers (of `partSize`) are held. */
  partConcurrency: z.number().int().min(1).max(64).default(10),
  /** Tries per request, the first included, for throttling, 5xx and connection errors. */
  maxAttempts: z.number().int().min(1).max(20).default(6),
  /** First backoff; doubled each try with full jitter, capped at `retryMaxDelayMs`. */
  retryBaseDelayMs: z.number().int().min(0).default(200),
  retryMaxDelayMs: z.number().int().min(0).default(20_000),
  /** A request with no progress for this long is aborted and retried. */
  requestTimeoutMs: z.number().int().min(1).default(120_000),
})

export type S3OptionsInput = z.input<typeof s3OptionsSchema>
export type S3Options = z.output<typeof s3OptionsSchema>

/** Parses options, naming the first bad field. */
export function parseS3Options(input: S3OptionsInput | undefined): S3Options {
  const res = s3OptionsSchema.safeParse(input ?? {})
  if (res.success) return res.data
  const issue = res.error.issues[0]!
  throw new S3OptionsError(`s3 option ${issue.path.join('.') || '(root)'}: ${issue.message}`)
}
