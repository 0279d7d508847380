import { sql } from 'kysely'
import type { ClaimedRow } from './attempt-load.ts'
import type { Db, Trx } from './database.ts'
import { PREPARE } from './prepared.ts'

/**
 * Claims scheduled task instances for this scheduler (Airflow jobs/adr/0002, graphile-worker's getJobs), in the
 * caller's transaction and two statements:
 * 1. lock every pool row, so concurrent claimers serialise on the caps (the lock is a statement of its own: the
 *    claim below must take its snapshot after the lock is held, or it could count occupancy from before another
 *    scheduler's claim committed);
 * 2. one statement that counts occupied slots, picks candidates in priority order with FOR UPDATE SKIP LOCKED,
 *    keeps those that fit their pool (running sum of slots) and their DAG's max_active_tasks, marks them queued
 *    with the next try number and inserts their attempt rows.
 * Tried first: five statements (lock, count, select, update, insert) at ~0.2 ms a round trip on loopback; this
 * form halves the claim's share of a chain edge. The executor is started only after commit.
 */
export async function claimIn(trx: Trx, schedulerId: string, capacity: number, onlyRunPk?: number): Promise<ClaimedRow[]> {
  if (capacity <= 0) return []
  await lockPools(trx)
  return claimStatement(trx, schedulerId, capacity, onlyRunPk, null)
}

/** What a claim may take for one executor: instances that name it (or, for the default one, name none), up to its capacity. */
export interface ExecutorWant {
  executor: string
  capacity: number
}

/**
 * claimIn for each executor of a scheduler, each claiming only instances that run on it and no more than it can
 * start now, so that a full executor leaves the others' instances claimable. One pool lock for all; each
 * statement sees the instances the ones before it claimed, so the caps hold across executors.
 */
export async function claimPerExecutor(
  trx: Trx,
  schedulerId: string,
  wants: ExecutorWant[],
  defaultExecutor: string,
  onlyRunPk?: number,
): Promise<ClaimedRow[]> {
  const open = wants.filter((w) => w.capacity > 0)
  if (open.length === 0) return []
  await lockPools(trx)
  const out: ClaimedRow[] = []
  for (const w of open) out.push(...(await claimStatement(trx, schedulerId, w.capacity, onlyRunPk, { executor: w.executor, defaultExecutor })))
  return out
}

async function lockPools(trx: Trx): Promise<void> {
  await sql`${sql.raw(PREPARE)} select name from pool order by name for update`.execute(trx)
}

async function claimStatement(
  trx: Trx,
  schedulerId: string,
  capacity: number,
  onlyRunPk: number | undefined,
  route: { executor: string; defaultExecutor: string } | null,
): Promise<ClaimedRow[]> {
  const executor = route?.executor ?? null
  const defaultExecutor = route?.defaultExecutor ?? null
  // -1 means "any run", a null executor "any executor": one statement text, so one prepared plan, for every use.
  const claimed = await sql<ClaimedRow>`${sql.raw(PREPARE)}
    with occ as (
      select pool, dag_id, sum(pool_slots) as slots, count(*) as n from task_instance
      where state in ('queued', 'running') group by pool, dag_id
    ),
    pool_free as (
      select p.name, p.slots - coalesce((select sum(o.slots) from occ o where o.pool = p.name), 0) as free from pool p
    ),
    cand as (
      select ti.id, ti.pool, ti.pool_slots, ti.dag_id, ti.priority_weight from task_instance ti
      where ti.state = 'scheduled' and (${onlyRunPk ?? -1}::int = -1 or ti.dag_run_id = ${onlyRunPk ?? -1}::int)
        and (${executor}::text is null or coalesce(ti.executor, ${defaultExecutor}::text) = ${executor}::text)
      order by ti.priority_weight desc, ti.id limit ${capacity * 2}
      for update skip locked
    ),
    ranked as (
      select c.*, sum(c.pool_slots) over (partition by c.pool order by c.priority_weight desc, c.id) as pool_used,
        row_number() over (partition by c.dag_id order by c.priority_weight desc, c.id) as dag_rank
      from cand c
    ),
    chosen as (
      select r.id from ranked r
      join pool_free pf on pf.name = r.pool
      join dag d on d.dag_id = r.dag_id
      where r.pool_used <= pf.free
        and r.dag_rank + coalesce((select sum(o.n) from occ o where o.dag_id = r.dag_id), 0) <= d.max_active_tasks
      order by r.priority_weight desc, r.id limit ${capacity}
    ),
    claimed as (
      update task_instance ti set state = 'queued', try_number = ti.try_number + 1, claimed_by = ${schedulerId},
        last_heartbeat_at = now(), start_date = now(), end_date = null, reason = null, updated_at = now()
      from chosen where ti.id = chosen.id and ti.state = 'scheduled'
      returning ti.*
    ),
    attempts as (
      insert into task_attempt (task_instance_id, try_number, state, scheduler_id)
      select id, try_number, 'queued', ${schedulerId} from claimed
      on conflict (task_instance_id, try_number) do nothing
      returning id, task_instance_id
    )
    select c.*, a.id as attempt_id from claimed c left join attempts a on a.task_instance_id = c.id
    order by c.priority_weight desc, c.id`.execute(trx)
  return claimed.rows
}

/** claimIn in a transaction of its own. */
export async function claimTasks(db: Db, schedulerId: string, capacity: number, onlyRunPk?: number): Promise<ClaimedRow[]> {
  return db.transaction().execute((trx) => claimIn(trx, schedulerId, capacity, onlyRunPk))
}

/** The runs with scheduled instances, in id order (for claiming run by run when the claim of all at once failed). */
export async function runsWithScheduledTasks(db: Db, onlyRunPk?: number, limit = 200): Promise<number[]> {
  let query = db.selectFrom('task_instance').select('dag_run_id').distinct().where('state', '=', 'scheduled')
  if (onlyRunPk !== undefined) query = query.where('dag_run_id', '=', onlyRunPk)
  return (await query.orderBy('dag_run_id').limit(limit).execute()).map((r) => r.dag_run_id)
}
