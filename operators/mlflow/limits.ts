/**
 * MLflow's request limits (docs/mlflow-rest.md §3.3, §3.4, §4.4), checked before sending so a bad value fails
 * with the field named rather than as a 400 halfway through a build, and the batching that keeps every
 * log-batch request under them.
 */
import { MlflowValidationError } from './errors.ts'
import type { KeyValue, Metric } from './types.ts'

export const LIMITS = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  entitiesPerBatch: 1000,
  /** Documented, enforced by Databricks-hosted servers; kept under with room for the envelope. */
  batchBytes: 1_000_000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  datasetNameLength: 500,
  datasetDigestLength: 36,
  datasetSourceLength: 65535,
  inputTagKeyLength: 255,
  inputTagValueLength: 500,
  aliasLength: 255,
} as const

const KEY_CHARS = /^[/\w.\- :]*$/

export function checkKey(key: string, field: string, endpoint: string): void {
  if (typeof key !== 'string' || key === '') throw new MlflowValidationError(`${field}: a key must be a non-empty string`, endpoint, field)
  if (key.length > LIMITS.keyLength)
    throw new MlflowValidationError(`${field} ${JSON.stringify(key.slice(0, 40))}…: longer than ${LIMITS.keyLength} characters`, endpoint, field)
  if (!KEY_CHARS.test(key))
    throw new MlflowValidationError(`${field} ${JSON.stringify(key)}: only letters, digits, _ - . space / and : are allowed`, endpoint, field)
  if (key.startsWith('/') || key.split('/').includes('..'))
    throw new MlflowValidationError(`${field} ${JSON.stringify(key)}: must be a relative path without '..'`, endpoint, field)
}

export function checkValue(value: string, max: number, field: string, endpoint: string): void {
  if (typeof value !== 'string') throw new MlflowValidationError(`${field}: the value must be a string`, endpoint, field)
  // The server truncates silently by default: refuse instead, so nothing is logged other than what was given.
  if (value.length > max) throw new MlflowValidationError(`${field}: value of ${value.length} characters exceeds ${max}`, endpoint, field)
}

export interface Batch {
  metrics: Metric[]
  params: KeyValue[]
  tags: KeyValue[]
}

/** Checks every item and splits them into requests within the per-kind, total and size limits. */
export function splitBatches(input: Partial<Batch>, endpoint = 'POST runs/log-batch'): Batch[] {
  const metrics = input.metrics ?? []
  const params = input.params ?? []
  const tags = input.tags ?? []
  metrics.forEach((m, i) => {
    checkKey(m.key, `metrics[${i}].key`, endpoint)
    if (typeof m.value !== 'number' || !Number.isFinite(m.value))
      throw new MlflowValidationError(
        `metrics[${i}] ${m.key}: value must be a finite number, got ${String(m.value)}`,
        endpoint,
        `metrics[${i}].value`,
      )
    if (!Number.isInteger(m.timestamp))
      throw new MlflowValidationError(`metrics[${i}] ${m.key}: timestamp must be epoch ms`, endpoint, `metrics[${i}].timestamp`)
  })
  const seen = new Map<string, string>()
  params.forEach((p, i) => {
    checkKey(p.key, `params[${i}].key`, endpoint)
    checkValue(p.value, LIMITS.paramValueLength, `params[${i}] ${p.key}`, endpoint)
    if (seen.has(p.key) && seen.get(p.key) !== p.value)
      throw new MlflowValidationError(`params: ${p.key} given twice with different values`, endpoint, `params[${i}].key`)
    seen.set(p.key, p.value)
  })
  tags.forEach((t, i) => {
    checkKey(t.key, `tags[${i}].key`, endpoint)
    checkValue(t.value, LIMITS.tagValueLength, `tags[${i}] ${t.key}`, endpoint)
  })
  const uniqueParams = [...new Map(params.map((p) => [p.key, p])).values()] // a repeated key in one request is a 400

  const batches: Batch[] = []
  let cur: Batch = { metrics: [], params: [], tags: [] }
  let bytes = 0
  const count = (): number => cur.metrics.length + cur.params.length + cur.tags.length
  const push = <K extends keyof Batch>(kind: K, item: Batch[K][number], perKind: number): void => {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1
    if (cur[kind].length >= perKind || count() >= LIMITS.entitiesPerBatch || bytes + size > LIMITS.batchBytes - 1000) {
      batches.push(cur)
      cur = { metrics: [], params: [], tags: [] }
      bytes = 0
    }
    ;(cur[kind] as Array<Batch[K][number]>).push(item)
    bytes += size
  }
  for (const p of uniqueParams) push('params', p, LIMITS.paramsPerBatch)
  for (const t of tags) push('tags', t, LIMITS.tagsPerBatch)
  for (const m of metrics) push('metrics', m, LIMITS.metricsPerBatch)
  if (count() > 0) batches.push(cur)
  return batches
}
