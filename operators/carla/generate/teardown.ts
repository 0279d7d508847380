/**
 * Cleanup that runs on every exit path. Steps run in phase order (sensor sockets before sensors, sensors before
 * vehicles, settings before the connection closes), newest first within a phase. Every step runs even if an
 * earlier one failed, each under its own time limit, so a dead server costs seconds, not a hang.
 */

export const Phase = {
  Sockets: 0,
  Sensors: 1,
  TrafficManager: 2,
  Actors: 3,
  Settings: 4,
  Connection: 5,
  Server: 6,
} as const
export type Phase = (typeof Phase)[keyof typeof Phase]

interface Step {
  phase: Phase
  name: string
  run(): Promise<unknown> | unknown
}

export interface TeardownReport {
  ran: string[]
  failed: Array<{ step: string; error: string }>
}

export class Teardown {
  private readonly steps: Step[] = []
  private done = false

  add(phase: Phase, name: string, run: () => Promise<unknown> | unknown): void {
    if (this.done) throw new Error(`teardown already ran; cannot add '${name}'`)
    this.steps.push({ phase, name, run })
  }

  async run(stepTimeoutMs = 10_000): Promise<TeardownReport> {
    this.done = true
    const report: TeardownReport = { ran: [], failed: [] }
    const order = this.steps.map((s, i) => ({ s, i })).sort((a, b) => a.s.phase - b.s.phase || b.i - a.i)
    for (const { s } of order) {
      let timer: NodeJS.Timeout | undefined
      try {
        await Promise.race([
          Promise.resolve().then(() => s.run()),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${stepTimeoutMs} ms`)), stepTimeoutMs)
          }),
        ])
        report.ran.push(s.name)
      } catch (err) {
        report.failed.push({ step: s.name, error: err instanceof Error ? err.message : String(err) })
      } finally {
        clearTimeout(timer)
      }
    }
    return report
  }
}
