import { TaskState } from '../../runtime/model/states.ts'
import { allowedTransitions, createdStates } from '../../runtime/model/transitions.ts'

/**
 * A database-side check that every task_instance state the test suite's stores ever write is allowed by
 * runtime/model/transitions.ts: a trigger, generated from the table, that refuses any other insert or state
 * update with an exception naming the pair. It lives in the database, so it also checks the `forge` processes
 * and worker threads that tests start against it. An event trigger attaches it when the migrations create
 * task_instance, so it holds on a fresh database whoever migrates it.
 *
 * The scheduler's loop reports a failed statement and carries on, so a refused write could go unnoticed in a
 * test that only waits for a run; each refusal is therefore also counted in sequences, which a rollback does not
 * undo, and the test stores' cleanup fails when the count is not zero (`transitionViolations`).
 *
 * A same-state write (running -> running) is refused too: the table lists none, and no statement in the runtime
 * sets a state it is guarded to already have.
 */

const FROM_LABELS = ['created', 'none', ...Object.values(TaskState)]
const TO_LABELS = ['none', ...Object.values(TaskState)]

const label = (s: TaskState | null) => s ?? 'none'
const list = (xs: string[]) => `array[${xs.map((x) => `'${x.replace(/'/g, "''")}'`).join(', ')}]::text[]`

/** The pairs the trigger lets through, "from -> to"; "created -> X" is an insert in state X. */
export function guardedPairs(): string[] {
  return [...createdStates().map((s) => `created -> ${label(s)}`), ...allowedTransitions().map((t) => `${label(t.from)} -> ${label(t.to)}`)]
}

const ATTACH_STATEMENTS = [
  'create trigger forge_test_guard_update before update of state on task_instance for each row execute function forge_test_guard_transition()',
  'create trigger forge_test_guard_insert before insert on task_instance for each row execute function forge_test_guard_transition()',
]

/**
 * The statements that install the guard on a database not yet migrated (the event trigger attaches it when the
 * migrations create task_instance), one per string: PGlite's extended protocol takes one at a time.
 */
export function transitionGuardStatements(): string[] {
  return [
    'create sequence forge_test_violations',
    'create sequence forge_test_last_violation',
    `create or replace function forge_test_guard_transition() returns trigger language plpgsql as $$
    declare
      f text := case when tg_op = 'INSERT' then 'created' else coalesce(old.state, 'none') end;
      t text := coalesce(new.state, 'none');
    begin
      if (f || ' -> ' || t) = any(${list(guardedPairs())}) then
        return new;
      end if;
      perform nextval('forge_test_violations');
      perform setval('forge_test_last_violation',
        (array_position(${list(FROM_LABELS)}, f) - 1) * ${TO_LABELS.length} + array_position(${list(TO_LABELS)}, t));
      raise exception 'task_instance % (task %, map_index %): % -> % is not allowed by runtime/model/transitions.ts',
        new.id, new.task_id, new.map_index, f, t using errcode = 'check_violation';
    end $$`,
    `create or replace function forge_test_attach_guard() returns event_trigger language plpgsql as $$
    begin
      if exists (select 1 from pg_event_trigger_ddl_commands() c
                 where c.command_tag = 'CREATE TABLE' and c.objid = to_regclass('task_instance')) then
        ${ATTACH_STATEMENTS.map((s) => `execute '${s}';`).join('\n        ')}
      end if;
    end $$`,
    `create event trigger forge_test_attach_guard on ddl_command_end when tag in ('CREATE TABLE') execute function forge_test_attach_guard()`,
  ]
}

type Query = (text: string) => Promise<{ rows: unknown[] }>

export async function installTransitionGuard(query: Query): Promise<void> {
  for (const s of transitionGuardStatements()) await query(s)
}

/** Refusals so far, and the last refused pair ("running -> queued"), from the sequences the trigger counts in. */
export async function transitionViolations(query: Query): Promise<{ count: number; last: string | null }> {
  const { rows } = await query(`select (select case when is_called then last_value else 0 end from forge_test_violations) as count,
    (select case when is_called then last_value else 0 end from forge_test_last_violation) as code`)
  const row = rows[0] as { count: number | string; code: number | string }
  const count = Number(row.count)
  const code = Number(row.code) - 1
  const last = code < 0 ? null : `${FROM_LABELS[Math.floor(code / TO_LABELS.length)] ?? '?'} -> ${TO_LABELS[code % TO_LABELS.length] ?? '?'}`
  return { count, last: count > 0 ? last : null }
}

/** For tests that provoke refusals on purpose (the guard's own test). */
export async function resetTransitionViolations(query: Query): Promise<void> {
  await query(`select setval('forge_test_violations', 1, false), setval('forge_test_last_violation', 1, false)`)
}

/** Throws, naming the last refused pair, if any write was refused since the guard was installed. */
export async function assertNoTransitionViolations(query: Query): Promise<void> {
  const v = await transitionViolations(query)
  if (v.count > 0) {
    throw new Error(
      `${v.count} task_instance write(s) were refused as not allowed by runtime/model/transitions.ts (the last: ${v.last}); the failed statement said which instance`,
    )
  }
}
