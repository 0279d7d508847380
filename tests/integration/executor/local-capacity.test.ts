import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalExecutor } from '../../../runtime/executors/local/local-executor.ts'
import { testConfig } from '../../helpers/run-dag.ts'
import { openTestStore, type TestStore } from '../../helpers/stores.ts'

// What is checked is the executor's own bookkeeping, whatever the store: PGlite is enough.
describe('the local executor claims nothing while it is still starting', () => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore('pglite')
  })
  afterAll(() => t?.cleanup())

  it('offers no capacity until a worker thread has booted, then its whole parallelism', async () => {
    const config = testConfig()
    const executor = new LocalExecutor({ parallelism: 5, threadWorkers: 1, store: t.store, config })
    try {
      // A fresh scheduler that claimed now would hold attempts for seconds before any could start, and lose them
      // all if it were killed meanwhile: it must leave them to the schedulers that can start them.
      expect(await executor.capacity()).toBe(0)
      // The scheduler that found no capacity is told when there is some, or it would wait for its next poll.
      const said = new Promise<number>((resolve) => {
        executor.onEvent((e) => {
          if (e.type === 'capacity') void executor.capacity().then(resolve)
        })
      })
      const deadline = Date.now() + 30_000
      while ((await executor.capacity()) === 0 && Date.now() < deadline) await sleep(20)
      expect(await executor.capacity()).toBe(5)
      expect(await Promise.race([said, sleep(5_000).then(() => 'no capacity event')])).toBe(5)
    } finally {
      await executor.close()
    }
  })
})
