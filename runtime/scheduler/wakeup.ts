/** A resettable "something happened" signal: wait(ms) resolves on fire() or after ms, whichever is first. */
export class Wakeup {
  private pending = false
  private resolve: (() => void) | null = null

  fire(): void {
    this.pending = true
    this.resolve?.()
  }

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const self = this
      function done() {
        clearTimeout(timer)
        self.resolve = null
        self.pending = false
        resolve()
      }
      this.resolve = done
    })
  }
}
