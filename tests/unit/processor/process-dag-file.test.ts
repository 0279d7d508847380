import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { processDagFile } from '../../../runtime/processor/process-dag-file.ts'

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/${path}`, import.meta.url))

describe('processDagFile', () => {
  it('serializes a good DAG with its file relative to the DAGs folder', async () => {
    const result = await processDagFile(fixture('dags-good/nested/deep.dag.ts'), { timeoutMs: 10_000, root: fixture('dags-good') })
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.dag).toMatchObject({ dag_id: 'nested_deep', fileloc: 'nested/deep.dag.ts', schedule: '@hourly' })
    expect(result.dag.tasks.find((t) => t.task_id === 'second')?.upstream).toEqual(['first'])
  })

  it('names the file relative to its own folder when no root is given', async () => {
    const result = await processDagFile(fixture('dags-broken/cycle.dag.ts'), { timeoutMs: 10_000 })
    expect(result).toMatchObject({ ok: false, error: { file: 'cycle.dag.ts', line: 4 } })
  })

  it('is not fooled by a file that prints to stdout and leaves a timer running', async () => {
    const started = performance.now()
    const result = await processDagFile(fixture('dags-good/noisy.dag.ts'), { timeoutMs: 10_000 })
    expect(result).toMatchObject({ ok: true, dag: { dag_id: 'noisy', fileloc: 'noisy.dag.ts' } })
    // The child exits once it has reported; the open interval must not hold it until the timeout.
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  // Both ways a file can hang: the timer gives up after 1.5s and the child is SIGKILLed, so the call returns soon after.
  it.each(['pending_await.dag.ts', 'busy_loop.dag.ts'])('kills %s after timeoutMs', async (name) => {
    const started = performance.now()
    const result = await processDagFile(fixture(`dags-broken/${name}`), { timeoutMs: 1500 })
    const elapsed = performance.now() - started
    expect(result).toEqual({
      ok: false,
      error: { file: name, line: null, message: expect.stringMatching(/^did not finish importing within 1\.50s \(killed\)/) },
    })
    expect(elapsed).toBeGreaterThanOrEqual(1400)
    expect(elapsed).toBeLessThan(10_000) // killed at the timeout, not left to run (a loaded CI box adds seconds)
  })
})
