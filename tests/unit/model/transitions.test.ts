import { describe, expect, it } from 'vitest'
import { TaskState } from '../../../runtime/model/states.ts'
import { allowedTransitions, canTransition, createdStates } from '../../../runtime/model/transitions.ts'

// The test databases' guard is generated from allowedTransitions (tests/helpers/transition-guard.ts); the runtime's
// decision pass reads the same table through allowedFrom/canTransition. Both views must agree.
describe('the transition table', () => {
  const states = Object.values(TaskState)

  it('lists, in allowedTransitions, exactly the pairs canTransition accepts, each once', () => {
    const accepted = [null, ...states].flatMap((from) =>
      [null, ...states].filter((to) => canTransition(from, to)).map((to) => `${from ?? 'none'} -> ${to ?? 'none'}`),
    )
    const listed = allowedTransitions().map((t) => `${t.from ?? 'none'} -> ${t.to ?? 'none'}`)
    expect(new Set(listed).size).toBe(listed.length)
    expect([...listed].sort()).toEqual([...accepted].sort())
  })

  it('lists no same-state transition, and creates instances undecided or scheduled only', () => {
    expect(allowedTransitions().filter((t) => t.from === t.to)).toEqual([])
    expect(createdStates()).toEqual([null, TaskState.Scheduled])
  })

  it('lets no person move an instance an attempt holds, and never clears into or out of one', () => {
    for (const held of [TaskState.Queued, TaskState.Running]) expect(canTransition(held, null)).toBe(false)
    expect(canTransition(null, TaskState.Running)).toBe(false)
    // A mark never revives a removed instance; a clear does (it is decided again).
    expect(canTransition(TaskState.Removed, TaskState.Success)).toBe(false)
    expect(canTransition(TaskState.Removed, null)).toBe(true)
  })
})
