import { ForgeError } from '../errors.ts'
import { listDatasets, showDataset } from '../store/dataset.repo.ts'
import type { CliContext } from './context.ts'
import { iso, printJson, printTable } from './output.ts'

/** `forge datasets list`: every dataset, its latest version, producers and consumers. */
export async function datasetsList(ctx: CliContext, opts: { json?: boolean }): Promise<number> {
  const rows = (await listDatasets(ctx.store.db)).map((d) => ({ ...d, latest_at: iso(d.latest_at) }))
  if (opts.json) printJson(rows)
  else {
    printTable(
      ['uri', 'events', 'latest', 'at', 'producers', 'consumers'],
      rows.map((d) => [
        d.uri,
        d.events,
        d.latest_version,
        d.latest_at,
        d.producers.map((p) => `${p.dag_id}.${p.task_id}`).join(', ') || null,
        d.consumers.join(', ') || null,
      ]),
    )
  }
  return 0
}

/** `forge datasets show URI`: its events (versions), who produced each, and which runs each started. */
export async function datasetsShow(ctx: CliContext, uri: string, opts: { json?: boolean }): Promise<number> {
  const d = await showDataset(ctx.store.db, uri)
  if (!d) throw new ForgeError('not_found', `no dataset "${uri}": see \`forge datasets list\``)
  const events = d.events_list.map((e) => ({ ...e, timestamp: iso(e.timestamp) }))
  const { events_list: _, ...summary } = d
  if (opts.json) {
    printJson({ ...summary, latest_at: iso(summary.latest_at), events })
    return 0
  }
  console.log(
    `${d.uri}: ${d.events} event(s); producers ${d.producers.map((p) => `${p.dag_id}.${p.task_id}`).join(', ') || 'none'}; consumers ${d.consumers.join(', ') || 'none'}`,
  )
  printTable(
    ['event', 'version', 'at', 'produced by', 'started'],
    events.map((e) => [
      e.id,
      e.version,
      e.timestamp,
      e.source.dag_id ? `${e.source.dag_id}/${e.source.run_id}/${e.source.task_id}` : null,
      e.triggered_runs.map((r) => `${r.dag_id}/${r.run_id} (${r.state})`).join(', ') || null,
    ]),
  )
  return 0
}
