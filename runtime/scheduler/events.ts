import type { AttemptSpec } from '../executors/executor.ts'

export type SchedulerEvent =
  | { type: 'attempt:finished'; spec: AttemptSpec; ok: boolean; reason: string | null; durationMs: number }
  | { type: 'attempt:progress'; spec: AttemptSpec; done: number; total: number | null; unit: string }
  | { type: 'run:finished'; dagId: string; runId: string; state: string }
  | { type: 'scheduler:error'; error: Error }
