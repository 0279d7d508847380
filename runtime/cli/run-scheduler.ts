import type { Executor } from '../executors/executor.ts'
import { LocalExecutor } from '../executors/local/local-executor.ts'
import { DagFileCache } from '../processor/dag-file-cache.ts'
import { refreshDags } from '../scheduler/refresh-dags.ts'
import { Scheduler, type SchedulerEvent } from '../scheduler/scheduler.ts'
import type { CliContext } from './context.ts'
import { makeReporter } from './reporter.ts'

/** A scheduler's executors: `executor` runs the tasks that name none, `executors` those that name them. */
export interface SchedulerExecutors {
  executor: Executor
  executors: Executor[]
}

/**
 * Runs a scheduler in this process with the local executor, and the Kubernetes one too when it is configured
 * (see schedulerExecutors). SIGINT/SIGTERM stop it cleanly: running attempts are cancelled and recorded
 * (up_for_retry), so nothing waits for the heartbeat timeout.
 */
export function startScheduler(
  ctx: CliContext,
  opts: { untilIdle?: boolean; refresh?: boolean; onlyRunPk?: number; onEvent?: (e: SchedulerEvent) => void } & Partial<SchedulerExecutors> = {},
): { scheduler: Scheduler; done: Promise<void> } {
  const report = makeReporter({ level: ctx.config.logLevel })
  // Lives as long as this scheduler: later refreshes import only the DAG files that changed since the last one.
  const dagFiles = new DagFileCache({ fullRefreshIntervalMs: ctx.config.dagFullRefreshIntervalMs })
  const scheduler = new Scheduler({
    config: ctx.config,
    store: ctx.store,
    executor: opts.executor ?? localExecutor(ctx),
    executors: opts.executors,
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

function localExecutor(ctx: CliContext): LocalExecutor {
  return new LocalExecutor({ parallelism: ctx.config.parallelism, threadWorkers: ctx.config.threadWorkers, store: ctx.store, config: ctx.config })
}

/**
 * The executors of a scheduler started from the CLI: local always; Kubernetes when configured (FORGE_K8S_IMAGE, or
 * FORGE_DEFAULT_EXECUTOR=kubernetes, which fails naming FORGE_K8S_IMAGE when it is unset). FORGE_DEFAULT_EXECUTOR
 * picks the one that runs the tasks naming none.
 */
export async function schedulerExecutors(ctx: CliContext): Promise<SchedulerExecutors> {
  if (ctx.config.kubernetes.image === null && ctx.config.defaultExecutor !== 'kubernetes') return { executor: localExecutor(ctx), executors: [] }
  // Loaded only when used: the Kubernetes client takes about half a second to import. Built before the local
  // executor, whose runner pool would keep the process alive if this threw.
  const kubernetes = (await import('../executors/kubernetes/from-config.ts')).kubernetesExecutorFromConfig(ctx.config, ctx.store)
  const local = localExecutor(ctx)
  return ctx.config.defaultExecutor === 'kubernetes' ? { executor: kubernetes, executors: [local] } : { executor: local, executors: [kubernetes] }
}

/** `forge scheduler`: its executors (schedulerExecutors), each running the tasks that name it. */
export async function runScheduler(ctx: CliContext, opts: Parameters<typeof startScheduler>[1] = {}): Promise<void> {
  const executors = opts.executor ? { executor: opts.executor, executors: opts.executors ?? [] } : await schedulerExecutors(ctx)
  await startScheduler(ctx, { ...opts, ...executors }).done
}
