import { readFileSync, readdirSync } from 'node:fs'

/**
 * Living (not zombie) processes with this pid or, for a negative id, in this process group. Read from /proc:
 * kill(pid, 0) also succeeds for a zombie, and an orphan's zombie may wait a while for init to reap it.
 */
export function living(id: number): number[] {
  // 0 would mean this test's own process group.
  if (!Number.isInteger(id) || id === 0) throw new Error(`not a pid: ${id}`)
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after its closing parenthesis.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (state === 'Z') continue
    if (id > 0 ? Number(entry) === id : Number(pgrp) === -id) found.push(Number(entry))
  }
  return found
}
