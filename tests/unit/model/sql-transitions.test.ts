import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { TaskState } from '../../../runtime/model/states.ts'
import { canTransition, createdStates } from '../../../runtime/model/transitions.ts'
import { scanFiles, scanSource, sourceFiles, type StateStatement } from '../../helpers/sql-state-writes.ts'

/*
 * Every task_instance statement under runtime/store/ and runtime/scheduler/ (wherever the SQL moves between the
 * two), read from the source: each state it writes must be reachable, under runtime/model/transitions.ts, from
 * each state its guard lets a row come from, and each insert must create instances in a state the table creates
 * them in. What the text cannot show is declared below with the evidence for it, and a declaration whose
 * statement or evidence is gone fails too.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const FOLDERS = ['runtime/store', 'runtime/scheduler']
const S = TaskState
type State = TaskState | null

interface Declared {
  /** Text that occurs in exactly one scanned statement. */
  marker: string
  /** The states it writes, where they are computed in TypeScript. */
  targets?: State[]
  /** The states its rows come from, where the guard is not in the statement itself. */
  from?: State[]
  /** Text that must occur in the scanned source, showing the declaration is right. */
  evidence: string
  why: string
}

const DECLARED: Declared[] = [
  {
    marker: 'update task_instance set state = ${to}, updated_at = now(), reason = coalesce',
    targets: [S.Scheduled, S.Skipped, S.UpstreamFailed],
    evidence: 'const from = allowedFrom(to)',
    why: "a decision pass applies decideRun's verdicts, guarded by allowedFrom(to) of the table itself",
  },
  {
    marker: "set state = $1::jsonb -> ti.id::text ->> 'state'",
    targets: [S.Success, S.UpForRetry, S.Failed],
    evidence: 'let state: TaskState = TaskState.Success',
    why: 'a batch of results: each row names the state its attempt ended in, success or what decideFailure (model/failure.ts) gives',
  },
  {
    marker: 'set state = v.state',
    targets: [S.Success, S.UpForRetry, S.Failed],
    evidence: 'let state: TaskState = TaskState.Success',
    why: 'a small batch of results, the same rows as above',
  },
  {
    marker: 'retry ? TaskState.UpForRetry : TaskState.Failed',
    from: [S.Queued, S.Running],
    evidence: ".where('ti.state', 'in', [TaskState.Queued, TaskState.Running])",
    why: 'the reaper locks the rows it updates FOR UPDATE, selected in queued or running, in the same transaction',
  },
]

const label = (s: State) => s ?? 'none'

/** What is wrong with these statements under the table, one line each (empty: nothing). */
function violations(statements: StateStatement[], declared: Declared[], source: string): string[] {
  const out: string[] = []
  const used = new Set<Declared>()
  for (const st of statements) {
    const where = `${st.file}:${st.line}`
    const decl = declared.find((d) => st.text.includes(d.marker))
    if (decl) used.add(decl)
    // stateGuard(to) over `set state = ${to}`: the guard is the table's own for whatever `to` is.
    if (st.guard.kind === 'table' && st.targetVar !== null && st.guard.arg === st.targetVar) continue
    const targets = st.targets === 'dynamic' ? decl?.targets : st.targets
    if (!targets && st.guard.kind === 'table') {
      out.push(`${where}: guarded by stateGuard(${st.guard.arg}) but writes \${${st.targetVar}}`)
      continue
    }
    if (!targets) {
      out.push(`${where}: writes a state computed in TypeScript: declare which`)
      continue
    }
    if (st.op === 'insert') {
      for (const t of targets)
        if (!createdStates().includes(t)) out.push(`${where}: creates instances in ${label(t)}, which the table does not create them in`)
      continue
    }
    if (targets.length === 0) continue
    if (st.guard.kind === 'table') {
      const arg = st.guard.arg
      const same =
        targets.length === 1 &&
        (arg === 'null' ? targets[0] === null : arg === `TaskState.${Object.entries(S).find(([, v]) => v === targets[0])?.[0]}`)
      if (!same) out.push(`${where}: guarded by stateGuard(${arg}) but writes ${targets.map(label).join('/')}`)
      continue
    }
    const from =
      st.guard.kind === 'states'
        ? st.guard.from
        : (decl?.from ?? (decl && st.guard.kind === 'dynamic' && decl.evidence.includes('allowedFrom') ? 'table' : undefined))
    if (from === 'table') continue
    if (!from) {
      out.push(
        `${where}: writes ${targets.map(label).join('/')} ${st.guard.kind === 'unguarded' ? 'with no guard on the state it comes from' : 'guarded by states computed in TypeScript'}: guard it or declare it`,
      )
      continue
    }
    for (const f of from)
      for (const t of targets) if (!canTransition(f, t)) out.push(`${where}: ${label(f)} -> ${label(t)} is not in runtime/model/transitions.ts`)
  }
  for (const d of declared) {
    if (!used.has(d)) out.push(`declared statement not found: ${d.marker}`)
    if (!source.includes(d.evidence)) out.push(`evidence not found for "${d.marker}": ${d.evidence}`)
  }
  return out
}

describe('SQL state changes against the transition table', () => {
  const files = sourceFiles(ROOT, FOLDERS)
  const statements = scanFiles(ROOT, files)
  const source = files.map((f) => readFileSync(f, 'utf8')).join('\n')

  it('every statement under runtime/store/ and runtime/scheduler/ writes only transitions the table allows', () => {
    expect(violations(statements, DECLARED, source)).toEqual([])
  })

  it('reads the statements it is meant to: the claim, a recorded success, a clear, a mark, and the inserts', () => {
    const pairs = (file: string) =>
      statements.filter((s) => s.file.endsWith(file)).map((s) => `${JSON.stringify(s.targets)} from ${JSON.stringify(s.guard)}`)
    expect(statements.length).toBeGreaterThanOrEqual(20)
    expect(pairs('claim.ts')).toContain('["queued"] from {"kind":"states","from":["scheduled"]}')
    expect(pairs('run-fail.ts')).toContain('["removed"] from {"kind":"states","from":["scheduled","up_for_retry",null]}')
    expect(
      statements.some((s) => s.text.includes("state = 'success'") && s.guard.kind === 'states' && s.guard.from.join() === 'queued,running'),
    ).toBe(true)
    expect(statements.some((s) => s.op === 'insert' && JSON.stringify(s.targets) === '["scheduled"]')).toBe(true)
    expect(statements.some((s) => s.op === 'insert' && JSON.stringify(s.targets) === '[null]')).toBe(true)
  })

  it.each([
    ["update task_instance set state = 'running' where state = 'success'", 'success -> running is not in'],
    ["update task_instance ti set state = 'scheduled', updated_at = now() where ti.id = 1", 'with no guard'],
    ["update task_instance ti set state = 'queued' where (ti.state || '') = 'running'", 'running -> queued is not in'],
    ["update task_instance x set state = ${TaskState.Removed} from task_instance ti where x.state = 'running'", 'running -> removed is not in'],
    ['update task_instance set state = ${next} where state = any(${from}::text[])', 'writes a state computed in TypeScript'],
    ['update task_instance set state = ${to} where ${stateGuard(TaskState.Failed)}', 'guarded by stateGuard(TaskState.Failed) but writes'],
    [
      "trx.updateTable('task_instance').set({ state: TaskState.Queued }).where('state', '=', TaskState.Success).execute()",
      'success -> queued is not in',
    ],
    ["trx.updateTable('task_instance').set({ state: TaskState.Failed, reason }).where('id', '=', id).execute()", 'with no guard'],
    ["trx.insertInto('task_instance').values({ state: TaskState.Running }).execute()", 'creates instances in running'],
    ["insert into task_instance (dag_run_id, task_id, state) select r.id, 'x', 'success' from dag_run r", 'creates instances in success'],
  ])('flags %s', (text, message) => {
    const found = violations(scanSource('example.ts', `sql\`${text}\``), [], '')
    expect(found).toHaveLength(1)
    expect(found[0]).toContain(message)
  })

  it('refuses a guard naming a word that is not a state, and a declaration whose statement is gone', () => {
    expect(() => scanSource('example.ts', "sql`update task_instance set state = 'queued' where state = 'sheduled'`")).toThrow(
      '"sheduled" is not a task-instance state',
    )
    expect(violations([], [DECLARED[0]!], '')).toEqual([
      `declared statement not found: ${DECLARED[0]!.marker}`,
      `evidence not found for "${DECLARED[0]!.marker}": ${DECLARED[0]!.evidence}`,
    ])
  })
})
