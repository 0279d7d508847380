/**
 * The connection to an MLflow tracking server, as a zod schema a configuration slice can reuse. The values come
 * from the caller (the project's config reads MLFLOW_TRACKING_URI, _USERNAME, _PASSWORD and _TOKEN); nothing
 * here reads the environment. No tracking URI means MLflow is not configured, and steps that need it skip.
 */
import { z } from '../../runtime/index.ts'
import { MlflowValidationError } from './errors.ts'

export const mlflowConnectionSchema = z
  .object({
    /** `http(s)://host[:port][/prefix]` of the tracking server; absent means "not configured". */
    trackingUri: z
      .string()
      .url('trackingUri must be an http(s) URL')
      .refine((u) => /^https?:\/\//.test(u), 'trackingUri must be http:// or https://')
      .optional(),
    /** Basic auth (docs/mlflow-rest.md §6); wins over `token` when both are given, as in MLflow's client. */
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    /** Bearer token, for servers behind a proxy that checks one. */
    token: z.string().min(1).optional(),
    /** Per-request limit, ms (default 120000, MLflow's client default). */
    timeoutMs: z.number().int().positive().default(120_000),
    /** Further attempts after a 408/429/5xx or a network error (default 7, as MLflow's client). */
    maxRetries: z.number().int().min(0).max(20).default(7),
    /** First backoff delay, ms, doubled per attempt with jitter, capped by retryMaxMs. */
    retryBaseMs: z.number().int().min(0).default(500),
    retryMaxMs: z.number().int().min(0).default(30_000),
  })
  .refine((c) => (c.username === undefined) === (c.password === undefined), { message: 'username and password go together', path: ['password'] })

export type MlflowConnectionInput = z.input<typeof mlflowConnectionSchema>
export type MlflowConnection = z.output<typeof mlflowConnectionSchema>

export function parseConnection(input: unknown): MlflowConnection {
  const r = mlflowConnectionSchema.safeParse(input ?? {})
  if (r.success) return r.data
  const issue = r.error.issues[0]!
  const field = issue.path.join('.') || '(connection)'
  throw new MlflowValidationError(`MLflow connection: ${field}: ${issue.message}`, '(options)', field)
}

/** The Authorization header: Basic when a username is set, else Bearer when a token is, else none. */
export function authorizationHeader(c: Pick<MlflowConnection, 'username' | 'password' | 'token'>): string | undefined {
  if (c.username !== undefined) return 'Basic ' + Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')
  if (c.token !== undefined) return `Bearer ${c.token}`
  return undefined
}
