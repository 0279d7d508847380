/**
 * `forge lineage`: from a model version, a dataset version or a run, the chain of what made it, from adas-forge's
 * own tables: model version → training run → the dataset version that started it → the run that produced that
 * version → its shards, each with the scenario and seed it was given and the manifest it wrote. And, from a run,
 * what it produced and which runs that started. Models and datasets are outlets like any other
 * (`model://NAME` version N, `dataset://NAME` version vN); nothing outside these tables is consulted.
 */
import { ForgeError } from '../errors.ts'
import { eventsProducedBy, eventsStarting, findEvent, lineageRun, runsStartedBy, type LineageEvent, type LineageRun } from '../store/lineage.repo.ts'
import type { Db } from '../store/database.ts'

export type LineageTarget =
  { kind: 'model'; name: string; version: string } | { kind: 'dataset'; name: string; version: string } | { kind: 'run'; runId: string }

export type LineageNode = ({ kind: 'event' } & LineageEvent) | ({ kind: 'run' } & LineageRun)

export interface Lineage {
  target: LineageTarget
  /** From the target back to the runs that had no dataset upstream, in walk order. */
  upstream: LineageNode[]
  /** For a run: what it produced and the runs that started. */
  downstream: LineageNode[]
}

/** Parses `model NAME/VERSION`, `dataset NAME@vN` or `run RUN_ID`; the message names what is wrong. */
export function parseLineageTarget(kind: string, ref: string): LineageTarget {
  if (kind === 'model') {
    const m = ref.match(/^(.+)\/([^/]+)$/)
    if (!m) throw new ForgeError('usage', `model must be NAME/VERSION (e.g. carla-detector/3), got ${JSON.stringify(ref)}`)
    return { kind: 'model', name: m[1]!, version: m[2]! }
  }
  if (kind === 'dataset') {
    const m = ref.match(/^(.+)@(v\d+)$/)
    if (!m) throw new ForgeError('usage', `dataset must be NAME@vN (e.g. carla_nightly@v3), got ${JSON.stringify(ref)}`)
    return { kind: 'dataset', name: m[1]!, version: m[2]! }
  }
  if (kind === 'run') return { kind: 'run', runId: ref }
  throw new ForgeError('usage', `lineage of "${kind}": use model NAME/VERSION, dataset NAME@vN or run RUN_ID`)
}

const MAX_NODES = 500

async function walkUp(db: Db, start: LineageEvent | (LineageRun & { pk: number }), out: LineageNode[], seen: Set<string>): Promise<void> {
  const queue: Array<LineageEvent | (LineageRun & { pk: number })> = [start]
  while (queue.length && out.length < MAX_NODES) {
    const node = queue.shift()!
    if ('uri' in node) {
      if (seen.has(`e${node.id}`)) continue
      seen.add(`e${node.id}`)
      out.push({ kind: 'event', ...node })
      const by = node.produced_by
      if (by.run_id) {
        const run = await lineageRun(db, by.dag_id, by.run_id)
        if (run) queue.push(run)
      }
    } else {
      if (seen.has(`r${node.pk}`)) continue
      seen.add(`r${node.pk}`)
      const { pk: _, ...run } = node
      out.push({ kind: 'run', ...run })
      queue.push(...(await eventsStarting(db, node.pk)))
    }
  }
}

export async function lineage(db: Db, target: LineageTarget): Promise<Lineage> {
  const upstream: LineageNode[] = []
  const downstream: LineageNode[] = []
  const seen = new Set<string>()
  if (target.kind === 'run') {
    const run = await lineageRun(db, null, target.runId)
    if (!run) throw new ForgeError('not_found', `no run "${target.runId}": see \`forge runs list\``)
    await walkUp(db, run, upstream, seen)
    for (const e of await eventsProducedBy(db, run.dag_id, run.run_id)) {
      downstream.push({ kind: 'event', ...e })
      for (const r of await runsStartedBy(db, e.id)) {
        const started = await lineageRun(db, r.dag_id, r.run_id)
        if (started) downstream.push({ kind: 'run', ...withoutPk(started) })
      }
    }
  } else {
    const uri = `${target.kind}://${target.name}`
    const event = await findEvent(db, uri, target.version)
    if (!event)
      throw new ForgeError(
        'not_found',
        `no ${target.kind} ${target.name} version ${target.version}: nothing recorded ${uri} with that version (see \`forge datasets show ${uri}\`)`,
      )
    await walkUp(db, event, upstream, seen)
  }
  return { target, upstream, downstream }
}

function withoutPk(r: LineageRun & { pk: number }): LineageRun {
  const { pk: _, ...rest } = r
  return rest
}
