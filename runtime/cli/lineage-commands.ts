import { lineage, parseLineageTarget, type LineageNode } from '../service/lineage.ts'
import type { CliContext } from './context.ts'
import { iso, printJson } from './output.ts'

function short(value: unknown, max = 160): string {
  const text = JSON.stringify(value) ?? 'null'
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

function describe(node: LineageNode): string[] {
  if (node.kind === 'event') {
    const by = node.produced_by
    const source = by.dag_id
      ? ` produced by ${by.dag_id}/${by.run_id} task ${by.task_id}${by.map_index != null && by.map_index >= 0 ? `[${by.map_index}]` : ''}`
      : ''
    return [`${node.uri} ${node.version ?? '(no version)'} at ${iso(node.timestamp)}${source}; ${short(node.extra)}`]
  }
  const lines = [
    `run ${node.dag_id}/${node.run_id} (${node.run_type}, ${node.state})${node.triggered_by.length ? `, started by event ${node.triggered_by.map((id) => `#${id}`).join(', ')}` : ''}`,
  ]
  for (const m of node.mapped) {
    for (const i of m.instances)
      lines.push(`  ${m.task_id}[${i.map_index}] ${i.state ?? 'none'}: item ${short(i.item, 120)} -> ${short(i.result, 120)}`)
  }
  return lines
}

/** `forge lineage (model NAME/VERSION | dataset NAME@vN | run RUN_ID) [--json]`. */
export async function lineageCommand(ctx: CliContext, kind: string, ref: string, opts: { json?: boolean }): Promise<number> {
  const result = await lineage(ctx.store.db, parseLineageTarget(kind, ref))
  if (opts.json) {
    printJson(result)
    return 0
  }
  for (const node of result.upstream) for (const line of describe(node)) console.log(line)
  if (result.downstream.length) {
    console.log('downstream:')
    for (const node of result.downstream) for (const line of describe(node)) console.log(`  ${line}`)
  }
  return 0
}
