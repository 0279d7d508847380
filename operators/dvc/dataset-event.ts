/**
 * The dataset version a triggered run was started for, read from its dataset events. The versioning step
 * records `outlet('dataset://NAME', { version: 'vN', md5, tag: 'NAME@vN', commit, remote })`; a consumer gets
 * those back as `{ uri, version, extra }` events. The newest event for the dataset wins.
 */
import { z } from '../../runtime/index.ts'
import { DvcError } from './errors.ts'
import { VERSION_TAG } from './pull-options.ts'

const eventSchema = z.object({
  uri: z.string(),
  version: z.string().nullish(),
  extra: z.record(z.string(), z.unknown()).nullish(),
  sourceRunId: z.string().nullish(),
  timestamp: z.union([z.string(), z.number(), z.date()]).nullish(),
})

export interface DatasetEventVersion {
  name: string
  uri: string
  /** `NAME@vN`. */
  tag: string
  /** The `.dvc` md5 ('.dir' included) when the event carries one. */
  md5: string | null
  commit: string | null
  remote: { url: string } | null
  sourceRunId: string | null
}

const stamp = (t: unknown): number => (t instanceof Date ? t.getTime() : typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : 0)

/** The newest `dataset://` event (for `name` when given), as the version it names; an error when there is none. */
export function datasetVersionFromEvents(events: unknown, name?: string): DatasetEventVersion {
  const parsed = z.array(eventSchema).safeParse(events ?? [])
  if (!parsed.success)
    throw new DvcError(`triggering events: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`, 'bad_event')
  const wanted = parsed.data.filter((e) => e.uri.startsWith('dataset://') && (name === undefined || e.uri === `dataset://${name}`))
  const latest = wanted.sort((a, b) => stamp(b.timestamp) - stamp(a.timestamp))[0]
  if (!latest) {
    throw new DvcError(`no dataset event${name ? ` for dataset://${name}` : ''} triggered this run: pass the version's tag explicitly`, 'no_event')
  }
  const dataset = latest.uri.slice('dataset://'.length)
  const extra = latest.extra ?? {}
  const tag = typeof extra.tag === 'string' ? extra.tag : latest.version ? `${dataset}@${latest.version}` : ''
  if (!VERSION_TAG.test(tag))
    throw new DvcError(
      `dataset event for ${latest.uri} names no version tag NAME@vN (version ${JSON.stringify(latest.version)}, tag ${JSON.stringify(extra.tag)})`,
      'bad_event',
    )
  // The remote may be recorded as its URL or as the `{ name, url }` the versioning step returns.
  const r = extra.remote as { url?: unknown } | string | undefined
  const remoteUrl = typeof r === 'string' ? r : typeof r?.url === 'string' ? r.url : null
  return {
    name: dataset,
    uri: latest.uri,
    tag,
    md5: typeof extra.md5 === 'string' ? extra.md5 : null,
    commit: typeof extra.commit === 'string' ? extra.commit : null,
    remote: remoteUrl ? { url: remoteUrl } : null,
    sourceRunId: latest.sourceRunId ?? null,
  }
}
