/**
 * The dvc operator's options, as zod schemas so a configuration slice can reuse them. Names that become git tags
 * or config sections are checked here, with the field named in the error.
 */
import { z } from '../../runtime/index.ts'
import { DvcError } from './errors.ts'

/** A dataset name usable as the `NAME` of a `NAME@vN` git tag. */
export const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

export const dvcRemoteSchema = z.object({
  /** The remote's name in `.dvc/config` (default 'storage'). */
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'remote name: letters, digits, _ and - only')
    .default('storage'),
  /** A local folder (made absolute) or `s3://bucket/prefix`. */
  url: z.string().min(1, 'remote url must not be empty'),
})

export const gitIdentitySchema = z.object({ name: z.string().min(1), email: z.string().min(1) })

export const dvcAddOptionsSchema = z.object({
  /** The dataset-registry git repository (created if missing). */
  repo: z.string().min(1, 'repo must not be empty'),
  /** The file or folder to track, relative to `repo` (or absolute, inside it). */
  path: z.string().min(1, 'path must not be empty'),
  /**
   * Read the data from this folder or file instead of from `path` (which then need not exist): like
   * `dvc add SOURCE --out PATH`, the data goes to the cache and the remote, and the workspace stays empty.
   */
  source: z.string().min(1, 'source must not be empty').optional(),
  /** When set, the version becomes a commit and the tag `<dataset>@v<N>` once the push succeeded. */
  dataset: z.string().max(200).regex(DATASET_NAME, 'dataset: a letter or digit, then letters, digits, ".", "_" or "-"').optional(),
  remote: dvcRemoteSchema.optional(),
  /** Commit message (default names the dataset, version and md5). */
  message: z.string().min(1).optional(),
  /** 'auto' uses the `dvc` CLI when it is on PATH; 'native' always uses the built-in writer. */
  engine: z.enum(['auto', 'native']).default('auto'),
  /** The state file of known digests (default `<repo>/.dvc/tmp/forge-md5-state.json`). */
  stateFile: z.string().min(1).optional(),
  /** Files hashed, and objects pushed, at once (default 8). */
  concurrency: z.number().int().min(1).max(64).default(8),
  identity: gitIdentitySchema.optional(),
})

export type DvcAddInput = z.input<typeof dvcAddOptionsSchema>
export type DvcAddOptions = z.output<typeof dvcAddOptionsSchema>

/** Parses `input` with `schema`; on failure throws `fail(field, message)` for the first bad field ('' for the whole). */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, fail: (field: string, message: string) => Error): z.output<S> {
  const r = schema.safeParse(input)
  if (r.success) return r.data
  const issue = r.error.issues[0]!
  throw fail(issue.path.join('.'), issue.message)
}

/** Parses options, naming the first bad field. */
export function parseDvcAddOptions(input: unknown): DvcAddOptions {
  return parseWith(dvcAddOptionsSchema, input, (field, message) => new DvcOptionsError(`dvc add: ${field || '(options)'}: ${message}`, field))
}

export class DvcOptionsError extends DvcError {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message, 'bad_options')
  }
}
