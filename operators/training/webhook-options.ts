/**
 * Options of the training webhook, as a zod schema; the first bad field is named in the error.
 */
import { z } from '../../runtime/index.ts'
import { parseWith } from '../dvc/options.ts'
import { TrainingError } from './errors.ts'

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL')

export const webhookOptionsSchema = z.object({
  url: httpUrl,
  headers: z.record(z.string(), z.string()).default({}),
  /** The dataset version to train on (a dvc pull result, a dataset event's version, or just its tag and md5). */
  dataset: z.object({
    tag: z.string().min(1),
    md5: z.string().nullish(),
    commit: z.string().nullish(),
    remote: z.object({ url: z.string() }).nullish(),
  }),
  /** Extra JSON fields sent with the dataset (a caller's own fields win over nothing: `dataset` and `adas_forge` are set here). */
  body: z.record(z.string(), z.unknown()).default({}),
  /** Further attempts after a 408/429/5xx or no answer (default 5). */
  maxRetries: z.number().int().min(0).max(20).default(5),
  retryBaseMs: z.number().int().min(0).default(1000),
  retryMaxMs: z.number().int().min(0).default(60_000),
  timeoutMs: z.number().int().positive().default(60_000),
  /** Poll a status URL until the external run is done; without it the step ends once the POST is accepted. */
  poll: z
    .object({
      /** Default: the answer's `status_url` field, else its Location header. `{id}` is replaced by the answer's `id`. */
      statusUrl: z.string().min(1).optional(),
      intervalMs: z.number().int().min(0).default(15_000),
      /** Give up after this long, ms (default 24 h). */
      timeoutMs: z.number().int().positive().default(86_400_000),
      /** The status answer's field holding the state (default 'status'). */
      field: z.string().min(1).default('status'),
      done: z.array(z.string()).default(['succeeded', 'success', 'completed', 'finished', 'done']),
      failed: z.array(z.string()).default(['failed', 'error', 'cancelled', 'canceled', 'killed']),
    })
    .optional(),
})

export type WebhookInput = z.input<typeof webhookOptionsSchema>
export type WebhookOptions = z.output<typeof webhookOptionsSchema>

export function parseWebhookOptions(input: unknown): WebhookOptions {
  return parseWith(
    webhookOptionsSchema,
    input,
    (field, message) => new TrainingError(`training webhook: ${field || '(options)'}: ${message}`, 'bad_options'),
  )
}
