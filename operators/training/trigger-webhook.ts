/**
 * Starting a training run in an external system over HTTP: a POST of the dataset version with the adas-forge
 * run as an `Idempotency-Key` header (the same on every retry of the task, so the receiver can tell a repeat from
 * a new request), then optionally polling a status URL until the external run is done or failed.
 */
import { TrainingError } from './errors.ts'
import { callWithRetries, type CallEnv, type RetryPolicy } from './webhook-call.ts'
import { parseWebhookOptions, type WebhookInput, type WebhookOptions } from './webhook-options.ts'
import { sleep, type ForgeLink } from '../mlflow/index.ts'

export interface WebhookResult {
  status: number
  response: unknown
  idempotencyKey: string
  attempts: number
  /** With polling: the status answer that ended it. */
  final: { state: string; url: string; body: unknown; polls: number } | null
}

export const idempotencyKey = (link: ForgeLink): string => `${link.dagId}/${link.runId}/${link.taskId ?? ''}`

const field = (body: unknown, name: string): unknown => (body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined)

function statusUrlOf(o: WebhookOptions, response: { body: unknown; headers: Record<string, string> }): string {
  const id = field(response.body, 'id')
  const given = o.poll?.statusUrl ?? (field(response.body, 'status_url') as string | undefined) ?? response.headers.location
  if (!given)
    throw new TrainingError(
      `training webhook ${o.url}: polling asked for, but no poll.statusUrl was given and the answer has no status_url or Location`,
      'no_status_url',
    )
  if (given.includes('{id}') && id === undefined)
    throw new TrainingError(`training webhook: poll.statusUrl ${given} needs {id}, and the answer has no id`, 'no_status_url')
  return new URL(given.replace('{id}', encodeURIComponent(String(id))), o.url).href
}

export async function triggerTrainingWebhook(input: WebhookInput, link: ForgeLink, env: CallEnv = {}): Promise<WebhookResult> {
  const o = parseWebhookOptions(input)
  const key = idempotencyKey(link)
  const policy: RetryPolicy = { maxRetries: o.maxRetries, baseMs: o.retryBaseMs, maxMs: o.retryMaxMs, timeoutMs: o.timeoutMs }
  const body = JSON.stringify({
    ...o.body,
    dataset: { tag: o.dataset.tag, md5: o.dataset.md5 ?? null, commit: o.dataset.commit ?? null, remote: o.dataset.remote?.url ?? null },
    adas_forge: { dag_id: link.dagId, run_id: link.runId, task_id: link.taskId ?? null },
  })
  const headers = { ...o.headers, 'content-type': 'application/json', accept: 'application/json', 'idempotency-key': key }
  const posted = await callWithRetries('POST', o.url, headers, body, policy, env)
  env.log?.(`training webhook ${o.url} accepted ${o.dataset.tag} (HTTP ${posted.status}, attempt ${posted.attempts})`, { idempotencyKey: key })
  const result: WebhookResult = { status: posted.status, response: posted.body, idempotencyKey: key, attempts: posted.attempts, final: null }
  if (!o.poll) return result

  const url = statusUrlOf(o, posted)
  const deadline = Date.now() + o.poll.timeoutMs
  const getHeaders = { ...o.headers, accept: 'application/json', 'idempotency-key': key }
  for (let polls = 1; ; polls++) {
    const r = await callWithRetries('GET', url, getHeaders, undefined, policy, env)
    const state = String(field(r.body, o.poll.field) ?? '').toLowerCase()
    if (o.poll.done.includes(state)) {
      env.log?.(`external training ${url}: ${state} after ${polls} polls`)
      return { ...result, final: { state, url, body: r.body, polls } }
    }
    if (o.poll.failed.includes(state)) {
      throw new TrainingError(`external training ${url} ended ${state}: ${JSON.stringify(r.body).slice(0, 2000)}`, 'external_failed')
    }
    if (Date.now() + o.poll.intervalMs > deadline)
      throw new TrainingError(`external training ${url} still ${JSON.stringify(state)} after ${o.poll.timeoutMs} ms`, 'poll_timeout', false)
    await (env.sleep ?? sleep)(o.poll.intervalMs, env.signal)
  }
}
