/**
 * Bounded concurrency that fails fast: after the first error no new item starts, the others are told to stop
 * through the signal, and the first error is what the caller sees.
 */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal | undefined,
  fn: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const stop = new AbortController()
  const onAbort = (): void => stop.abort(signal!.reason)
  if (signal?.aborted) throw signal.reason
  signal?.addEventListener('abort', onAbort, { once: true })
  let next = 0
  let failure: { error: unknown } | null = null
  const worker = async (): Promise<void> => {
    while (!failure && !stop.signal.aborted && next < items.length) {
      const item = items[next++]!
      try {
        await fn(item, stop.signal)
      } catch (error) {
        if (!failure) failure = { error }
        stop.abort(error)
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
  if (failure) throw (failure as { error: unknown }).error
  if (signal?.aborted) throw signal.reason
}

/** A counting semaphore: at most `size` holders at once, served in arrival order. */
export class Semaphore {
  private active = 0
  private readonly waiting: Array<() => void> = []

  constructor(private readonly size: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.active++
    try {
      return await fn()
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else this.active--
    }
  }
}
