/** Polls `get` every 10 ms until it gives a value, then returns it; throws after `ms`. */
export async function until<T>(get: () => T | undefined | false | null, ms = 10_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = get()
    if (v) return v
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}
