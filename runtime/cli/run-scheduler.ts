import { LocalExecutor } from '../executors/local/local-executor.ts'
import { DagFileCache } from '../processor/dag-file-cache.ts'
import { refreshDags } from '../scheduler/refresh-dags.ts'
import { Scheduler, type SchedulerEvent } from '../scheduler/scheduler.ts'
import type { CliContext } from './context.ts'
import { makeReporter } from './reporter.ts'

/**
 * Runs a scheduler with the local executor in this process. SIGINT/SIGTERM stop it cleanly: running attempts are
 * cancelled and recorded (up_for_retry), so nothing waits for the heartbeat timeout.
 */
export function startScheduler(ctx: CliContext, opts: { untilIdle?: boolean; refresh?: boolean; onlyRunPk?: number; onEvent?: (e: SchedulerEvent) => void } = {}): { scheduler: Scheduler; done: Promise<void> } {
  const report = makeReporter({ level: ctx.config.logLevel })
  // Lives as long as this scheduler: later refreshes import only the DAG files that changed since the last one.
  const dagFiles = new DagFileCache({ fullRefreshIntervalMs: ctx.config.dagFullRefreshIntervalMs })
  const scheduler = new Scheduler({
    config: ctx.config,
    store: ctx.store,
    executor: new LocalExecutor({ parallelism: ctx.config.parallelism, threadWorkers: ctx.config.threadWorkers, store: ctx.store, config: ctx.config }),
    onlyRunPk: opts.onlyRunPk,
    refreshDags: opts.refresh === false ? undefined : async () => void (await refreshDags(ctx.store.db, ctx.config, dagFiles)),
    onEvent: (e) => {
      report(e)
      opts.onEvent?.(e)
    },
  })
  const stop = () => scheduler.stop()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const done = scheduler.run({ untilIdle: opts.untilIdle }).finally(() => {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  })
  return { scheduler, done }
}

export async function runScheduler(ctx: CliContext, opts: Parameters<typeof startScheduler>[1] = {}): Promise<void> {
  await startScheduler(ctx, opts).done
}
