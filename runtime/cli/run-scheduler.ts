import type { Executor } from '../executors/executor.ts'
import { LocalExecutor } from '../executors/local/local-executor.ts'
import { DagFileCache } from '../processor/dag-file-cache.ts'
import { refreshDags } from '../scheduler/refresh-dags.ts'
import { Scheduler, type SchedulerEvent } from '../scheduler/scheduler.ts'
import type { CliContext } from './context.ts'
import { makeReporter } from './reporter.ts'

/**
 * Runs a scheduler in this process, with the local executor or, with FORGE_DEFAULT_EXECUTOR=kubernetes, the
 * Kubernetes one. SIGINT/SIGTERM stop it cleanly: running attempts are
 * cancelled and recorded (up_for_retry), so nothing waits for the heartbeat timeout.
 */
export function startScheduler(
  ctx: CliContext,
  opts: { untilIdle?: boolean; refresh?: boolean; onlyRunPk?: number; onEvent?: (e: SchedulerEvent) => void; executor?: Executor } = {},
): { scheduler: Scheduler; done: Promise<void> } {
  const report = makeReporter({ level: ctx.config.logLevel })
  // Lives as long as this scheduler: later refreshes import only the DAG files that changed since the last one.
  const dagFiles = new DagFileCache({ fullRefreshIntervalMs: ctx.config.dagFullRefreshIntervalMs })
  const scheduler = new Scheduler({
    config: ctx.config,
    store: ctx.store,
    executor:
      opts.executor ??
      new LocalExecutor({ parallelism: ctx.config.parallelism, threadWorkers: ctx.config.threadWorkers, store: ctx.store, config: ctx.config }),
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

/** `forge scheduler`: one executor per scheduler; FORGE_DEFAULT_EXECUTOR=kubernetes runs every attempt as a Job. */
export async function runScheduler(ctx: CliContext, opts: Parameters<typeof startScheduler>[1] = {}): Promise<void> {
  // Loaded only when used: the Kubernetes client takes about half a second to import.
  const executor =
    ctx.config.defaultExecutor === 'kubernetes'
      ? (await import('../executors/kubernetes/from-config.ts')).kubernetesExecutorFromConfig(ctx.config, ctx.store)
      : undefined
  await startScheduler(ctx, { ...opts, executor: opts.executor ?? executor }).done
}
