/**
 * The training run's options, as zod schemas; the first bad field is named in the error. The dataset is the
 * pulled version (the dvc pull result fits as it is).
 */
import { z } from '../../runtime/index.ts'
import { parseWith } from '../dvc/options.ts'
import { TrainingError } from './errors.ts'

/** The pulled dataset version a run trains on. */
export const pulledDatasetSchema = z.object({
  /** The folder the version was pulled into. */
  dest: z.string().min(1, 'the pulled folder must not be empty'),
  /** `NAME@vN`. */
  tag: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*@v[1-9][0-9]*$/, 'NAME@vN expected'),
  dataset: z.string().min(1).optional(),
  md5: z.string().regex(/^[0-9a-f]{32}(\.dir)?$/, '32 lowercase hex digits, optionally followed by .dir'),
  commit: z.string().nullish(),
  nfiles: z.number().nullish(),
  size: z.number().nullish(),
  remote: z.object({ url: z.string().min(1) }).nullish(),
})

/** Variables a trainer gets from the parent environment by default: enough to find programs and a locale. */
export const DEFAULT_ENV_ALLOWLIST = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR']

export const trainModelSchema = z.object({
  /**
   * The trainer's argv (no shell). `{dataset}`, `{tag}`, `{md5}` and `{output}` inside an argument are replaced
   * by the pulled folder, the version tag, its md5 and the output folder.
   */
  command: z.array(z.string()).min(1, 'the trainer argv, at least the program'),
  dataset: pulledDatasetSchema,
  /** Where the trainer writes its model and artifacts (created; FORGE_OUTPUT_DIR). */
  outputDir: z.string().min(1, 'outputDir must not be empty'),
  cwd: z.string().min(1).optional(),
  /** Names copied from the parent environment the caller passes in. */
  envAllowlist: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'variable names only')).default(DEFAULT_ENV_ALLOWLIST),
  /** Explicit variables for the trainer (win over inherited ones; FORGE_* are set by the operator and win over these). */
  env: z.record(z.string(), z.string()).default({}),
  model: z.object({
    /** The registered model's name (and the outlet's `model://NAME`). */
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a letter or digit, then letters, digits, ".", "_" or "-"')
      .max(200),
    /** The registry alias moved onto the new version (default 'candidate'). */
    alias: z.string().min(1).max(255).default('candidate'),
    /**
     * The model version's source URI, for a model stored elsewhere already. By default the trainer's model file and
     * artifacts are uploaded as the MLflow run's `model/` artifacts and the source is that folder.
     */
    source: z.string().min(1).optional(),
  }),
  experiment: z.string().min(1).max(500).default('adas-forge-training'),
  /** Extra params logged with the trainer's own. */
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** Wait between SIGTERM and SIGKILL when the run is aborted, ms (default 10000). */
  killGraceMs: z.number().int().min(0).default(10_000),
})

export type TrainModelInput = z.input<typeof trainModelSchema>
export type TrainModelOptions = z.output<typeof trainModelSchema>

export function parseTrainModelOptions(input: unknown): TrainModelOptions {
  return parseWith(trainModelSchema, input, (field, message) => new TrainingError(`training run: ${field || '(options)'}: ${message}`, 'bad_options'))
}
