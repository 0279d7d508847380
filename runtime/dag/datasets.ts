import type { DatasetSchedule } from './types.ts'

/**
 * Schedules a DAG on datasets: `schedule: onDatasets('s3://lake/carla/nightly')` runs it once per event of that
 * dataset, and `onDatasets(a, b, { batch: true })` once both have new events, with all of them in its context.
 */
export function onDatasets(...args: Array<string | { batch?: boolean }>): DatasetSchedule {
  const datasets = args.filter((a): a is string => typeof a === 'string')
  const options = args.find((a): a is { batch?: boolean } => typeof a === 'object' && a !== null)
  return { datasets, batch: options?.batch ?? false }
}
