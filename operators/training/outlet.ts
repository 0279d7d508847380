/**
 * Recording an outlet (`ctx.outlet(uri, { version, ...extra })`) through the task context when the runtime
 * offers it; where it does not, the outlet stays in the task's result and the log says so.
 */
import type { TaskContext } from '../../runtime/index.ts'

export type OutletContext = Pick<TaskContext, 'log'> & {
  outlet?(uri: string, extra: { version: string } & Record<string, unknown>): unknown
}

export async function recordOutlet(ctx: OutletContext, uri: string, extra: { version: string } & Record<string, unknown>): Promise<boolean> {
  if (typeof ctx.outlet !== 'function') {
    ctx.log(`this runtime records no outlets: ${uri} version ${extra.version} is only in the task's result`, { outlet: uri })
    return false
  }
  await ctx.outlet(uri, extra)
  ctx.log(`recorded ${uri} version ${extra.version}`, { outlet: uri, ...extra })
  return true
}
