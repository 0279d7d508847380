/**
 * Options of a pull of one exact dataset version, checked with zod; the first bad field is named in the error.
 */
import { z } from '../../runtime/index.ts'
import { DATASET_NAME, DvcOptionsError, parseWith } from './options.ts'

/** `NAME@vN`, the tag a dataset version carries (docs/dvc-format.md §9). */
export const VERSION_TAG = new RegExp(`^(${DATASET_NAME.source.slice(1, -1)})@v([1-9][0-9]*)$`)

export const dvcPullOptionsSchema = z.object({
  /** The dataset-registry git repository: a local folder, or a URL to clone. */
  repo: z.string().min(1, 'repo must not be empty'),
  /** The version's tag, `NAME@vN`. */
  tag: z.string().regex(VERSION_TAG, 'NAME@vN expected, NAME a letter or digit then letters, digits, ".", "_" or "-"'),
  /** The tracked path in the repository (its `.dvc` file is `<path>.dvc`); default: the tag's NAME. */
  path: z.string().min(1).optional(),
  /** The folder the dataset is written to; replaced as a whole once every object is verified. */
  dest: z.string().min(1, 'dest must not be empty'),
  /** The remote's URL; default: the default remote in `.dvc/config` at the tag. */
  remote: z.object({ url: z.string().min(1, 'remote url must not be empty') }).optional(),
  /** Where fetched objects are kept (resume); default `<repo>/.dvc/cache` for a local repository, else `<dest>.dvc-cache`. */
  cacheDir: z.string().min(1).optional(),
  /** Objects fetched at once (default 8). */
  concurrency: z.number().int().min(1).max(64).default(8),
})

export type DvcPullInput = z.input<typeof dvcPullOptionsSchema>
export type DvcPullOptions = z.output<typeof dvcPullOptionsSchema>

export function parseDvcPullOptions(input: unknown): DvcPullOptions {
  return parseWith(dvcPullOptionsSchema, input, (field, message) => new DvcOptionsError(`dvc pull: ${field || '(options)'}: ${message}`, field))
}
