import type { TaskLogger } from './dag/types.ts'

/** A task logger that adds its fields to every line; `child` adds more (pino's child loggers, as a function). */
export interface OperatorLogger extends TaskLogger {
  readonly fields: Readonly<Record<string, unknown>>
  child(fields: Record<string, unknown>): OperatorLogger
}

export function operatorLogger(write: TaskLogger, fields: Record<string, unknown>): OperatorLogger {
  const frozen = Object.freeze({ ...fields })
  const log = (message: string, extra?: Record<string, unknown>): void => write(message, extra ? { ...frozen, ...extra } : frozen)
  return Object.assign(log, {
    fields: frozen,
    child: (more: Record<string, unknown>) => operatorLogger(write, { ...frozen, ...more }),
  })
}
