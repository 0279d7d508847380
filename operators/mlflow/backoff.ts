/**
 * How long to wait before retrying an MLflow call: exponential from `baseMs` with full jitter in [50%, 100%],
 * capped; a server's Retry-After (seconds) is honoured up to the cap.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, retryAfter?: string | null, random: () => number = Math.random): number {
  const after = retryAfter && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) * 1000 : null
  if (after !== null) return Math.min(after, maxMs)
  const exp = Math.min(maxMs, baseMs * 2 ** attempt)
  return Math.round(exp * (0.5 + random() / 2))
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(t)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
