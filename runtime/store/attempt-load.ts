import { resolveInputs } from '../dag/ref.ts'
import { taskOf, type SerializedDag, type SerializedTask } from '../dag/serialize.ts'
import { slotSuccessor } from '../model/slot-handoff.ts'
import { RunType } from '../model/states.ts'
import { triggeringEventsOf } from './dataset-events.ts'
import type { AttemptSpec } from './attempt-spec.ts'
import { getDagVersion } from './dag.repo.ts'
import type { DagRunRow, Db, TaskInstanceRow } from './database.ts'

/**
 * What loadAttempts may reuse between calls. Run rows never change in the fields used here, and a result enters
 * `results` only after a guarded update recorded it, so neither can be stale.
 */
export interface SpecCache {
  runs: Map<number, DagRunRow>
  /** `${runPk}|${taskId}` -> result of an unmapped task instance */
  results: Map<string, unknown>
}

/** A claimed instance, with its attempt's id when the claiming statement returned it (it saves a query). */
export type ClaimedRow = TaskInstanceRow & { attempt_id?: number | null }

const refsCache = new WeakMap<SerializedTask, string[]>()

/** The upstream tasks whose results `task`'s inputs or map_over refer to (order-only `after` edges need none). */
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

/** One attempt by its id, with its state (a runner refuses one that has finished); null when there is none. */
export async function loadAttempt(db: Db, attemptId: number): Promise<{ spec: AttemptSpec; state: string } | null> {
  const row = await db
    .selectFrom('task_attempt as a')
    .innerJoin('task_instance as ti', 'ti.id', 'a.task_instance_id')
    .selectAll('ti')
    .select(['a.id as attempt_id', 'a.state as attempt_state', 'a.try_number as attempt_try'])
    .where('a.id', '=', attemptId)
    .executeTakeFirst()
  if (!row) return null
  const { attempt_state, attempt_try, ...ti } = row
  // An older try's row: its spec is what that try ran (the instance has moved on, so the guard will refuse it).
  const [spec] = await loadAttempts(db, [{ ...ti, try_number: attempt_try }])
  return { spec: spec!, state: attempt_state }
}

/**
 * Builds the specs of claimed instances in one batch: params, resolved inputs, the mapped item, the attempt id and
 * what an earlier try left for a retry to resume from. THE one place an attempt's spec is built.
 */
export async function loadAttempts(db: Db, claimed: ClaimedRow[], cache?: SpecCache): Promise<AttemptSpec[]> {
  if (claimed.length === 0) return []
  const runIds = [...new Set(claimed.map((c) => c.dag_run_id))]
  const missingRuns = runIds.filter((id) => !cache?.runs.has(id))
  const fetched = missingRuns.length ? await db.selectFrom('dag_run').selectAll().where('id', 'in', missingRuns).execute() : []
  for (const r of fetched) cache?.runs.set(r.id, r)
  const runById = new Map<number, DagRunRow>([
    ...runIds.flatMap((id) => (cache?.runs.has(id) ? [[id, cache.runs.get(id)!] as const] : [])),
    ...fetched.map((r) => [r.id, r] as const),
  ])
  const dags = new Map<number, SerializedDag>()
  for (const r of runById.values()) dags.set(r.id, await getDagVersion(db, r.dag_version_id))
  const results = await upstreamResults(db, claimed, dags, runIds, cache)
  const attempts = await attemptFacts(db, claimed)
  const triggering = await triggeringEventsOf(
    db,
    [...runById.values()].filter((r) => r.run_type === RunType.DatasetTriggered).map((r) => r.id),
  )
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
    const facts = attempts.get(c.id)
    return {
      attemptId: c.attempt_id ?? facts?.find((t) => t.tryNumber === c.try_number)?.id ?? 0,
      key: `${c.id}:${c.try_number}`,
      tiId: c.id,
      tryNumber: c.try_number,
      maxTries: c.max_tries,
      infraFailures: c.infra_failures,
      maxInfraRetries: c.max_infra_retries,
      dagId: c.dag_id,
      runId: c.run_id,
      runPk: c.dag_run_id,
      taskId: c.task_id,
      mapIndex: c.map_index,
      executor: c.executor,
      fileloc: dag.fileloc,
      versionTag: String(run.dag_version_id),
      task,
      params: run.conf,
      inputs: resolveInputs(task.inputs, lookup),
      item,
      logicalDate: run.logical_date.toISOString(),
      dataIntervalStart: run.data_interval_start.toISOString(),
      dataIntervalEnd: run.data_interval_end.toISOString(),
      codeDigest: run.code_digest ?? null,
      triggeringEvents: (triggering.get(run.id) ?? []).map((e) => ({ ...e, timestamp: e.timestamp.toISOString() })),
      previousDetails: previousDetails(facts, c.try_number),
      claimedBy: c.claimed_by,
      handoff: slotSuccessor(dag, task, c.map_index),
    }
  })
}

/** `${runPk}|${taskId}` -> the results of that upstream task's instances, in map_index order. */
async function upstreamResults(
  db: Db,
  claimed: ClaimedRow[],
  dags: Map<number, SerializedDag>,
  runIds: number[],
  cache?: SpecCache,
): Promise<Map<string, unknown[]>> {
  const results = new Map<string, unknown[]>()
  const wanted = new Set<string>()
  for (const c of claimed) {
    const dag = dags.get(c.dag_run_id)!
    for (const up of referencedTasks(taskOf(dag, c.task_id)!)) {
      const key = `${c.dag_run_id}|${up}`
      if (!taskOf(dag, up)?.map_over && cache?.results.has(key)) results.set(key, [cache.results.get(key)])
      else wanted.add(up)
    }
  }
  if (wanted.size === 0) return results
  const xcoms = await db
    .selectFrom('xcom')
    .select(['dag_run_id', 'task_id', 'map_index', 'value'])
    .where('dag_run_id', 'in', runIds)
    .where('task_id', 'in', [...wanted])
    .orderBy('map_index')
    .execute()
  for (const x of xcoms) {
    const k = `${x.dag_run_id}|${x.task_id}`
    const list = results.get(k)
    if (list) list.push(x.value)
    else results.set(k, [x.value])
  }
  return results
}

type EarlierTry = { tryNumber: number; id: number; details: unknown }

/**
 * Attempt ids the claim did not return, and what earlier tries left in heartbeat(): one query, only for instances
 * that need it (a first try whose claim returned its attempt id needs none, which keeps a chain edge at no query).
 */
async function attemptFacts(db: Db, claimed: ClaimedRow[]): Promise<Map<number, EarlierTry[]>> {
  const ids = claimed.filter((c) => c.attempt_id == null || c.try_number > 1).map((c) => c.id)
  const out = new Map<number, EarlierTry[]>()
  if (ids.length === 0) return out
  const rows = await db
    .selectFrom('task_attempt')
    .select(['id', 'task_instance_id', 'try_number', 'heartbeat_details'])
    .where('task_instance_id', 'in', ids)
    .orderBy('try_number')
    .execute()
  for (const r of rows) {
    const tries = out.get(r.task_instance_id) ?? []
    tries.push({ tryNumber: r.try_number, id: r.id, details: r.heartbeat_details })
    out.set(r.task_instance_id, tries)
  }
  return out
}

/** The latest earlier try that left details: a try lost before it heartbeated must not erase what the one before left. */
function previousDetails(tries: EarlierTry[] | undefined, tryNumber: number): unknown {
  return tries?.filter((t) => t.tryNumber < tryNumber && t.details != null).at(-1)?.details ?? null
}
