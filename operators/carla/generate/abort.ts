/**
 * Making waits abortable: the task's AbortSignal fires on timeout or cancellation (SIGTERM), and every wait in
 * the shard must give up promptly so teardown can run.
 */
import { TaskFailure } from '../../../runtime/index.ts'

export class ShardAbortedError extends TaskFailure {
  constructor(reason: unknown) {
    super(`shard aborted: ${reason instanceof Error ? reason.message : String(reason ?? 'aborted')}`, 'ShardAborted', false)
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ShardAbortedError(signal.reason)
}

/** Rejects when `signal` aborts; the underlying promise keeps running but its result is ignored. */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p
  if (signal.aborted) return Promise.reject(new ShardAbortedError(signal.reason))
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new ShardAbortedError(signal.reason))
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
    )
  })
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return abortable(new Promise((r) => setTimeout(r, ms)), signal)
}
