import { DirectedGraph } from 'graphology'
import { hasCycle } from 'graphology-dag'
import { DagDefinitionError } from '../errors.ts'

interface GraphTask {
  id: string
  upstream: string[]
  site: string | null
}

/** Checks edges point at declared tasks and that there is no cycle; errors name the tasks involved. */
export function validateGraph(dagId: string, tasks: ReadonlyMap<string, GraphTask>): DirectedGraph {
  const graph = new DirectedGraph()
  for (const id of tasks.keys()) graph.addNode(id)
  for (const task of tasks.values()) {
    for (const up of task.upstream) {
      if (!tasks.has(up)) {
        const where = task.site ? ` (${task.site})` : ''
        throw new DagDefinitionError(`dag "${dagId}": task "${task.id}"${where} depends on unknown task "${up}"`, { taskIds: [task.id, up] })
      }
      graph.mergeEdge(up, task.id)
    }
  }
  if (hasCycle(graph)) {
    const cycle = findCycle(graph)
    // Name where the cycle's first task is declared, like the other graph errors, so the import error has a line.
    const site = cycle.length ? tasks.get(cycle[0]!)?.site : null
    throw new DagDefinitionError(`dag "${dagId}" has a cycle: ${cycle.join(' -> ')}${site ? ` (${site})` : ''}`, { taskIds: cycle })
  }
  return graph
}

/** A concrete cycle (first node repeated at the end), found by DFS with an on-stack set. */
function findCycle(graph: DirectedGraph): string[] {
  const color = new Map<string, 0 | 1 | 2>()
  const stack: string[] = []
  const visit = (node: string): string[] | null => {
    color.set(node, 1)
    stack.push(node)
    for (const next of graph.outNeighbors(node)) {
      const c = color.get(next) ?? 0
      if (c === 1) return [...stack.slice(stack.indexOf(next)), next]
      if (c === 0) {
        const found = visit(next)
        if (found) return found
      }
    }
    stack.pop()
    color.set(node, 2)
    return null
  }
  for (const node of graph.nodes()) {
    if ((color.get(node) ?? 0) === 0) {
      const found = visit(node)
      if (found) return found
    }
  }
  return []
}
