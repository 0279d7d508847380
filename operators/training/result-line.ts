/**
 * The trainer protocol (README "Trainer protocol"): a trainer reports to adas-forge by printing JSON lines on
 * stdout. `{"type":"progress","done":N,"total":M,"unit":"epochs"}` lines report progress; the LAST non-empty
 * stdout line must be `{"type":"training_result","metrics":{…},"params":{…},"model":"model.json","artifacts":{…}}`,
 * with `model` and `artifacts` paths relative to the output folder. Every other line is just log output.
 */
import { insideFolder, z } from '../../runtime/index.ts'
import { TrainingError } from './errors.ts'

const relPath = z.string().min(1)

export const trainingResultSchema = z.object({
  type: z.literal('training_result'),
  metrics: z.record(z.string(), z.number().refine(Number.isFinite, 'metrics must be finite numbers')),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** The model file, relative to the output folder. */
  model: relPath.optional(),
  artifacts: z.record(z.string(), relPath).default({}),
})

export type TrainingResult = z.output<typeof trainingResultSchema> & {
  /** Absolute paths, checked to lie inside the output folder. */
  modelFile: string | null
  artifactFiles: Record<string, string>
}

export interface ProgressLine {
  done: number
  total: number | null
  unit: string
}

/** A `{"type":"progress"}` line, or null for any other line. */
export function progressLine(line: string): ProgressLine | null {
  if (!line.startsWith('{"type":"progress"')) return null
  try {
    const p = JSON.parse(line) as { done?: unknown; total?: unknown; unit?: unknown }
    if (typeof p.done !== 'number') return null
    return { done: p.done, total: typeof p.total === 'number' ? p.total : null, unit: typeof p.unit === 'string' ? p.unit : 'steps' }
  } catch {
    return null
  }
}

/** Parses the final stdout line; an absent or malformed one is a non-retryable error quoting the line. */
export function parseResultLine(line: string | null, outputDir: string): TrainingResult {
  const shown = line === null ? 'no output at all' : JSON.stringify(line.slice(0, 300))
  if (line === null)
    throw new TrainingError(
      `the trainer printed no result line (${shown}); its last stdout line must be {"type":"training_result","metrics":{…}}`,
      'no_result',
    )
  let json: unknown
  try {
    json = JSON.parse(line)
  } catch {
    throw new TrainingError(`the trainer's last stdout line is not JSON: ${shown}; it must be {"type":"training_result","metrics":{…}}`, 'no_result')
  }
  const r = trainingResultSchema.safeParse(json)
  if (!r.success) {
    const issue = r.error.issues[0]!
    throw new TrainingError(`the trainer's result line: ${issue.path.join('.') || '(line)'}: ${issue.message} in ${shown}`, 'bad_result')
  }
  const inside = (p: string): string => insideFolder(outputDir, p) // a result never points outside the output folder
  return {
    ...r.data,
    modelFile: r.data.model ? inside(r.data.model) : null,
    artifactFiles: Object.fromEntries(Object.entries(r.data.artifacts).map(([k, p]) => [k, inside(p)])),
  }
}
