/**
 * Which runs a DAG scheduled on datasets gets from its pending events (pure). Per event: one run for each event,
 * of any of its datasets. Batch: one run once every dataset has at least one pending event, covering them all;
 * until then nothing is consumed.
 */
export interface EventRef {
  id: number
  uri: string
}

export function planDatasetRuns<E extends EventRef>(events: E[], datasets: string[], batch: boolean): E[][] {
  if (events.length === 0) return []
  if (!batch) return events.map((e) => [e])
  const seen = new Set(events.map((e) => e.uri))
  return datasets.every((d) => seen.has(d)) ? [events] : []
}
