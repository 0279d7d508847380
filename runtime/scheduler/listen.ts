import type { SchedulerState } from './state.ts'

/**
 * Turns NOTIFYs on the 'forge' channel into hints of what may have changed, and wakes the loop: a run triggered
 * or finished ('run:…'), a result a runner recorded ('recorded:RUN'), a dataset event ('dataset'), work scheduled
 * by another scheduler.
 * 'reconnected' means notifications were lost while the listener was down: look at everything once.
 */
export function listenForWork(s: SchedulerState, wake: () => void): Promise<() => Promise<void>> {
  return s.store.listen('forge', (payload) => {
    if (payload === 'reconnected') s.hints.runsMayStart = s.hints.datasets = s.hints.scan = s.hints.claim = s.hints.unwatched = true
    else if (payload === 'dataset') s.hints.datasets = true
    else if (payload.startsWith('run')) s.hints.runsMayStart = true
    else {
      if (payload.startsWith('recorded:')) s.dirty.add(Number(payload.slice('recorded:'.length)))
      s.hints.claim = s.hints.unwatched = true
    }
    wake()
  })
}
