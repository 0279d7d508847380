/**
 * What the double's kubelet keeps of each container's output (docs/kubernetes.md §8): chunks with the time they
 * were written, read whole or as a follow stream that ends when the container terminates, with the kubelet's
 * `tailLines`, `limitBytes` and `timestamps` options.
 */
export interface LogReadOptions {
  tailLines?: number
  /** The first N bytes of what would be sent: Kubernetes' limitBytes cuts the head, never the tail. */
  limitBytes?: number
  timestamps?: boolean
}

interface ContainerLog {
  chunks: Array<{ at: string; text: string }>
  ended: boolean
  followers: Set<{ onText: (text: string) => void; onEnd: () => void; timestamps: boolean }>
}

function stamp(at: string, text: string): string {
  // Every line gets the time its chunk arrived, as the container runtime records per line.
  return text.replace(/^(?=.)/gm, `${at} `)
}

export class PodLogs {
  private logs = new Map<string, ContainerLog>()

  private entry(pod: string, container: string): ContainerLog {
    const key = `${pod}/${container}`
    let e = this.logs.get(key)
    if (!e) this.logs.set(key, (e = { chunks: [], ended: false, followers: new Set() }))
    return e
  }

  append(pod: string, container: string, text: string): void {
    const e = this.entry(pod, container)
    const at = new Date().toISOString().replace('Z', '000000Z')
    e.chunks.push({ at, text })
    for (const f of e.followers) f.onText(f.timestamps ? stamp(at, text) : text)
  }

  /** The container terminated: follow streams end once what it wrote is sent. */
  end(pod: string, container: string): void {
    const e = this.entry(pod, container)
    e.ended = true
    for (const f of e.followers) f.onEnd()
    e.followers.clear()
  }

  /** Everything a container wrote, concatenated (for assertions). */
  text(pod: string, container = 'worker'): string {
    return this.entry(pod, container)
      .chunks.map((c) => c.text)
      .join('')
  }

  read(pod: string, container: string, o: LogReadOptions = {}): string {
    const e = this.entry(pod, container)
    let text = e.chunks.map((c) => (o.timestamps ? stamp(c.at, c.text) : c.text)).join('')
    if (o.tailLines !== undefined) {
      const lines = text.split(/(?<=\n)/)
      text = o.tailLines === 0 ? '' : lines.slice(-o.tailLines).join('')
    }
    if (o.limitBytes !== undefined) text = Buffer.from(text).subarray(0, o.limitBytes).toString('utf8')
    return text
  }

  /** Sends what is there, then every later chunk, until the container ends or `stop` is called. */
  follow(pod: string, container: string, o: LogReadOptions, onText: (text: string) => void, onEnd: () => void): () => void {
    const e = this.entry(pod, container)
    let budget = o.limitBytes ?? Infinity
    const send = (text: string) => {
      if (budget <= 0) return
      const bytes = Buffer.from(text)
      const part = bytes.length > budget ? bytes.subarray(0, budget).toString('utf8') : text
      budget -= Math.min(bytes.length, budget)
      onText(part)
      if (budget <= 0) finish()
    }
    let done = false
    const follower = { onText: send, onEnd: () => finish(), timestamps: !!o.timestamps }
    const finish = () => {
      if (done) return
      done = true
      e.followers.delete(follower)
      onEnd()
    }
    const initial = this.read(pod, container, { ...o, limitBytes: undefined })
    if (initial) send(initial)
    if (e.ended) finish()
    else if (!done) e.followers.add(follower)
    return () => {
      done = true
      e.followers.delete(follower)
    }
  }
}
