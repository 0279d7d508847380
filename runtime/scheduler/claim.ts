import { sql } from 'kysely'
import { resolve } from 'node:path'
import { resolveInputs } from '../dag/ref.ts'
import type { SerializedDag } from '../dag/serialize.ts'
import type { AttemptSpec } from '../executors/executor.ts'
import { TaskState } from '../model/states.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import type { Db, TaskInstanceRow, Trx } from '../store/database.ts'

/**
 * Claims scheduled task instances for this scheduler in one transaction (Airflow jobs/adr/0002): lock the pool
 * rows so concurrent claimers serialise on the caps, count occupied slots, pick candidates in priority order with
 * FOR UPDATE SKIP LOCKED, keep those that fit their pool and their DAG's max_active_tasks, and mark them queued
 * with the next try number. The executor is started only after commit.
 */
export async function claimTasks(db: Db, schedulerId: string, capacity: number, onlyRunPk?: number): Promise<TaskInstanceRow[]> {
  if (capacity <= 0) return []
  return db.transaction().execute(async (trx) => {
    const pools = await trx.selectFrom('pool').select(['name', 'slots']).orderBy('name').forUpdate().execute()
    const occupied = await sql<{ pool: string; dag_id: string; slots: number; n: number }>`
      select pool, dag_id, sum(pool_slots)::int as slots, count(*)::int as n from task_instance
      where state in ('queued', 'running') group by pool, dag_id`.execute(trx)
    const freePool = new Map(pools.map((p) => [p.name, p.slots]))
    const dagRunning = new Map<string, number>()
    for (const o of occupied.rows) {
      freePool.set(o.pool, (freePool.get(o.pool) ?? 0) - o.slots)
      dagRunning.set(o.dag_id, (dagRunning.get(o.dag_id) ?? 0) + o.n)
    }
    const candidates = await trx
      .selectFrom('task_instance as ti')
      .innerJoin('dag', 'dag.dag_id', 'ti.dag_id')
      .select(['ti.id', 'ti.pool', 'ti.pool_slots', 'ti.dag_id', 'dag.max_active_tasks'])
      .where('ti.state', '=', TaskState.Scheduled)
      .$if(onlyRunPk !== undefined, (q) => q.where('ti.dag_run_id', '=', onlyRunPk!))
      .orderBy('ti.priority_weight', 'desc')
      .orderBy('ti.id')
      .limit(capacity * 2)
      .forUpdate('ti')
      .skipLocked()
      .execute()
    const chosen: number[] = []
    for (const c of candidates) {
      if (chosen.length >= capacity) break
      // A task naming a pool that does not exist waits; `forge` reports it in the task's reason below.
      const free = freePool.get(c.pool)
      const running = dagRunning.get(c.dag_id) ?? 0
      if (free === undefined || free < c.pool_slots || running >= c.max_active_tasks) continue
      freePool.set(c.pool, free - c.pool_slots)
      dagRunning.set(c.dag_id, running + 1)
      chosen.push(c.id)
    }
    const missingPool = candidates.filter((c) => !freePool.has(c.pool)).map((c) => c.id)
    if (missingPool.length) {
      await trx.updateTable('task_instance').set({ reason: sql`'waiting: pool "' || pool || '" does not exist'` }).where('id', 'in', missingPool).execute()
    }
    if (chosen.length === 0) return []
    const claimed = await trx
      .updateTable('task_instance')
      .set({
        state: TaskState.Queued,
        try_number: sql`try_number + 1`,
        claimed_by: schedulerId,
        last_heartbeat_at: sql`now()`,
        start_date: sql`now()`,
        end_date: null,
        reason: null,
        updated_at: sql`now()`,
      })
      .where('id', 'in', chosen)
      .where('state', '=', TaskState.Scheduled)
      .returningAll()
      .execute()
    await trx
      .insertInto('task_attempt')
      .values(claimed.map((t) => ({ task_instance_id: t.id, try_number: t.try_number, state: TaskState.Queued, scheduler_id: schedulerId })))
      .onConflict((oc) => oc.columns(['task_instance_id', 'try_number']).doNothing())
      .execute()
    return claimed
  })
}

/** Builds what the executor needs for each claimed instance: params, resolved inputs, the mapped item. */
export async function buildAttemptSpecs(db: Db, claimed: TaskInstanceRow[], dagsFolder: string): Promise<AttemptSpec[]> {
  if (claimed.length === 0) return []
  const runIds = [...new Set(claimed.map((c) => c.dag_run_id))]
  const runs = await db.selectFrom('dag_run').selectAll().where('id', 'in', runIds).execute()
  const runById = new Map(runs.map((r) => [r.id, r]))
  const wanted = new Set<string>()
  const dags = new Map<number, SerializedDag>()
  for (const r of runs) dags.set(r.id, await getDagVersion(db, r.dag_version_id))
  for (const c of claimed) {
    const task = dags.get(c.dag_run_id)!.tasks.find((t) => t.task_id === c.task_id)!
    for (const up of task.upstream) wanted.add(up)
  }
  const xcoms = wanted.size
    ? await db.selectFrom('xcom').select(['dag_run_id', 'task_id', 'map_index', 'value']).where('dag_run_id', 'in', runIds).where('task_id', 'in', [...wanted]).orderBy('map_index').execute()
    : []
  const results = new Map<string, unknown[]>()
  for (const x of xcoms) {
    const k = `${x.dag_run_id}|${x.task_id}`
    results.set(k, [...(results.get(k) ?? []), x.value])
  }
  return claimed.map((c) => {
    const run = runById.get(c.dag_run_id)!
    const dag = dags.get(c.dag_run_id)!
    const task = dag.tasks.find((t) => t.task_id === c.task_id)!
    const mapped = new Set(dag.tasks.filter((t) => t.map_over).map((t) => t.task_id))
    // A mapped upstream's output is the list of its instances' results, in map_index order.
    const lookup = (taskId: string) => {
      const values = results.get(`${c.dag_run_id}|${taskId}`) ?? []
      return mapped.has(taskId) ? values : values[0]
    }
    const item = task.map_over ? (resolveInputs(task.map_over, lookup) as unknown[] | undefined)?.[c.map_index] : null
    return {
      key: `${c.id}:${c.try_number}`,
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

export type { Trx }
