import { sql } from 'kysely'
import { resolve } from 'node:path'
import { resolveInputs } from '../dag/ref.ts'
import type { SerializedDag, SerializedTask } from '../dag/serialize.ts'
import type { AttemptSpec } from '../executors/executor.ts'
import { TaskState } from '../model/states.ts'
import { taskOf } from '../dag/serialize.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import type { DagRunRow, Db, TaskInstanceRow, Trx } from '../store/database.ts'
import { PREPARE } from '../store/prepared.ts'

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
  await sql`${sql.raw(PREPARE)} select name from pool order by name for update`.execute(trx)
  // -1 means "any run": one statement text, so one prepared plan, for both uses.
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
    select claimed.*, attempts.id as attempt_id from claimed left join attempts on attempts.task_instance_id = claimed.id
    order by claimed.priority_weight desc, claimed.id`.execute(trx)
  return claimed.rows
}

/** A claimed task instance with the id of the attempt row the claim inserted (null if one existed already). */
export type ClaimedRow = TaskInstanceRow & { attempt_id: number | null }

/** claimIn in a transaction of its own. */
export async function claimTasks(db: Db, schedulerId: string, capacity: number, onlyRunPk?: number): Promise<ClaimedRow[]> {
  return db.transaction().execute((trx) => claimIn(trx, schedulerId, capacity, onlyRunPk))
}

/**
 * What buildAttemptSpecs may reuse between passes. Run rows never change in the fields used here, and a result
 * enters `results` only after this scheduler's guarded update recorded it, so neither can be stale.
 */
export interface SpecCache {
  runs: Map<number, DagRunRow>
  /** `${runPk}|${taskId}` -> result of an unmapped task instance */
  results: Map<string, unknown>
}

const refsCache = new WeakMap<SerializedTask, string[]>()

/** The upstream tasks whose results a task reads (order-only `after` edges need none). */
/** The upstream tasks whose results `task`'s inputs or map_over refer to. */
export function referencedTasks(task: SerializedTask): string[] {
  let refs = refsCache.get(task)
  if (!refs) {
    const found = new Set<string>()
    resolveInputs([task.inputs, task.map_over], (t) => void found.add(t))
    refs = [...found]
    refsCache.set(task, refs)
  }
  return refs
}

/** Builds what the executor needs for each claimed instance: params, resolved inputs, the mapped item. */
export async function buildAttemptSpecs(db: Db, claimed: ClaimedRow[], dagsFolder: string, cache?: SpecCache): Promise<AttemptSpec[]> {
  if (claimed.length === 0) return []
  const attemptIds = await attemptIdsOf(db, claimed)
  const runIds = [...new Set(claimed.map((c) => c.dag_run_id))]
  const missingRuns = runIds.filter((id) => !cache?.runs.has(id))
  const fetched = missingRuns.length ? await db.selectFrom('dag_run').selectAll().where('id', 'in', missingRuns).execute() : []
  for (const r of fetched) cache?.runs.set(r.id, r)
  const runById = new Map<number, DagRunRow>([...runIds.flatMap((id) => (cache?.runs.has(id) ? [[id, cache.runs.get(id)!] as const] : [])), ...fetched.map((r) => [r.id, r] as const)])
  const dags = new Map<number, SerializedDag>()
  for (const r of runById.values()) dags.set(r.id, await getDagVersion(db, r.dag_version_id))
  const results = new Map<string, unknown[]>()
  const wanted = new Set<string>()
  for (const c of claimed) {
    const dag = dags.get(c.dag_run_id)!
    const task = taskOf(dag, c.task_id)!
    for (const up of referencedTasks(task)) {
      const key = `${c.dag_run_id}|${up}`
      const mapped = taskOf(dag, up)?.map_over
      if (!mapped && cache?.results.has(key)) results.set(key, [cache.results.get(key)])
      else wanted.add(up)
    }
  }
  const xcoms = wanted.size
    ? await db.selectFrom('xcom').select(['dag_run_id', 'task_id', 'map_index', 'value']).where('dag_run_id', 'in', runIds).where('task_id', 'in', [...wanted]).orderBy('map_index').execute()
    : []
  for (const x of xcoms) {
    const k = `${x.dag_run_id}|${x.task_id}`
    const list = results.get(k)
    if (list) list.push(x.value)
    else results.set(k, [x.value])
  }
  return claimed.map((c) => {
    const run = runById.get(c.dag_run_id)!
    const dag = dags.get(c.dag_run_id)!
    const task = taskOf(dag, c.task_id)!
    // A mapped upstream's output is the list of its instances' results, in map_index order.
    const lookup = (taskId: string) => {
      const values = results.get(`${c.dag_run_id}|${taskId}`) ?? []
      return taskOf(dag, taskId)?.map_over ? values : values[0]
    }
    const item = task.map_over ? (resolveInputs(task.map_over, lookup) as unknown[] | undefined)?.[c.map_index] : null
    return {
      key: `${c.id}:${c.try_number}`,
      attemptId: attemptIds.get(c.id)!,
      tiId: c.id,
      tryNumber: c.try_number,
      maxTries: c.max_tries,
      dagId: c.dag_id,
      runId: c.run_id,
      taskId: c.task_id,
      mapIndex: c.map_index,
      file: resolve(dagsFolder, dag.fileloc),
      versionTag: String(run.dag_version_id),
      task,
      params: run.conf,
      inputs: resolveInputs(task.inputs, lookup),
      item,
      logicalDate: run.logical_date.toISOString(),
      dataIntervalStart: run.data_interval_start.toISOString(),
      dataIntervalEnd: run.data_interval_end.toISOString(),
    }
  })
}


/** The attempt rows of claimed instances: returned by the claim, looked up only where it did not insert one. */
async function attemptIdsOf(db: Db, claimed: ClaimedRow[]): Promise<Map<number, number>> {
  const ids = new Map<number, number>()
  const missing: ClaimedRow[] = []
  for (const c of claimed) {
    if (c.attempt_id != null) ids.set(c.id, Number(c.attempt_id))
    else missing.push(c)
  }
  if (missing.length === 0) return ids
  const rows = await db
    .selectFrom('task_attempt')
    .select(['id', 'task_instance_id', 'try_number'])
    .where('task_instance_id', 'in', missing.map((c) => c.id))
    .execute()
  const tries = new Map(missing.map((c) => [c.id, c.try_number]))
  for (const r of rows) if (tries.get(r.task_instance_id) === r.try_number) ids.set(r.task_instance_id, r.id)
  return ids
}
