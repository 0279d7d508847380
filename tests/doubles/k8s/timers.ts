/** The double's pending timers (deadlines, TTLs, backoffs, retries), all cleared when it closes. */
export class Timers {
  private pending = new Set<NodeJS.Timeout>()

  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.pending.delete(t)
      fn()
    }, ms)
    this.pending.add(t)
  }

  clear(): void {
    for (const t of this.pending) clearTimeout(t)
    this.pending.clear()
  }
}
