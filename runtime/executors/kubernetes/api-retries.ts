/**
 * Retries of API calls that the server asks to repeat: 429 (Priority and Fairness answers it as plain text with
 * Retry-After), 5xx and connection errors. client-node retries nothing itself (docs/kubernetes.md §7).
 */
import { ApiException } from '@kubernetes/client-node'

export async function withApiRetries<T>(call: () => Promise<T>, attempts = 5, baseMs = 200): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call()
    } catch (err) {
      const code = err instanceof ApiException ? err.code : null
      const retryable = code === null ? !(err instanceof TypeError) : code === 429 || code >= 500
      if (!retryable || i >= attempts) throw err
      const after = err instanceof ApiException ? Number((err.headers as Record<string, string> | undefined)?.['retry-after']) : NaN
      const wait = Number.isFinite(after) && after > 0 ? after * 1000 : baseMs * 2 ** (i - 1) * (0.5 + Math.random() / 2)
      await new Promise((r) => setTimeout(r, Math.min(wait, 10_000)))
    }
  }
}
