import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebhookError, TrainingError } from '../../../operators/training/errors.ts'
import { trainingWebhook } from '../../../operators/training/training-webhook.operator.ts'
import { triggerTrainingWebhook } from '../../../operators/training/trigger-webhook.ts'
import type { TaskContext } from '../../../runtime/index.ts'

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}
type Reply = (req: Seen, res: ServerResponse) => void

let server: Server
let base: string
let seen: Seen[]
let replies: Reply[]
let waits: number[]
const link = { dagId: 'train_on_new_dataset', runId: 'dataset_triggered__2026-12-02T03:00:00Z', taskId: 'train' }
const dataset = { tag: 'carla@v4', md5: 'b'.repeat(32) + '.dir', commit: 'c4', remote: { url: 's3://datasets/dvc' } }
const noWait = async (ms: number): Promise<void> => void waits.push(ms)
const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Reply =>
  (_req, res) =>
    void res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))

beforeEach(async () => {
  seen = []
  replies = []
  waits = []
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body }
      seen.push(s)
      const reply = replies.shift()
      if (reply) reply(s, res)
      else res.writeHead(500).end('no reply scripted')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()))
})

describe('triggerTrainingWebhook', () => {
  it('POSTs the dataset version with the adas-forge run as the idempotency key', async () => {
    replies.push(json(202, { id: 'job-1' }))
    const r = await triggerTrainingWebhook(
      { url: `${base}/train`, headers: { authorization: 'Bearer t0k' }, dataset, body: { model: 'carla-prior' } },
      link,
      { sleep: noWait },
    )
    expect(r).toMatchObject({
      status: 202,
      response: { id: 'job-1' },
      idempotencyKey: 'train_on_new_dataset/dataset_triggered__2026-12-02T03:00:00Z/train',
      attempts: 1,
      final: null,
    })
    expect(seen).toHaveLength(1)
    expect(seen[0]!.method).toBe('POST')
    expect(seen[0]!.headers).toMatchObject({ 'idempotency-key': r.idempotencyKey, authorization: 'Bearer t0k', 'content-type': 'application/json' })
    expect(JSON.parse(seen[0]!.body)).toEqual({
      model: 'carla-prior',
      dataset: { tag: 'carla@v4', md5: dataset.md5, commit: 'c4', remote: 's3://datasets/dvc' },
      adas_forge: { dag_id: link.dagId, run_id: link.runId, task_id: 'train' },
    })
  })

  it('retries 5xx and 429 with backoff (honouring Retry-After), with the same idempotency key each time', async () => {
    replies.push(json(503, { error: 'busy' }), json(429, {}, { 'retry-after': '2' }), json(200, { id: 'job-2' }))
    const r = await triggerTrainingWebhook({ url: `${base}/train`, dataset, retryBaseMs: 100 }, link, { sleep: noWait })
    expect(r.attempts).toBe(3)
    expect(waits[0]).toBeGreaterThanOrEqual(50)
    expect(waits[0]).toBeLessThanOrEqual(100)
    expect(waits[1]).toBe(2000)
    expect(new Set(seen.map((s) => s.headers['idempotency-key'])).size).toBe(1)
  })

  it('a 4xx is not retried, and the error carries the response body', async () => {
    replies.push(json(422, { error: 'unknown dataset carla@v4' }))
    const err = (await triggerTrainingWebhook({ url: `${base}/train`, dataset }, link, { sleep: noWait }).catch((e: unknown) => e)) as WebhookError
    expect(err).toBeInstanceOf(WebhookError)
    expect(err).toMatchObject({ status: 422, nonRetryable: true, reason: 'webhook_refused' })
    expect(err.body).toContain('unknown dataset carla@v4')
    expect(err.message).toContain('unknown dataset carla@v4')
    expect(seen).toHaveLength(1)
  })

  it('gives up after maxRetries with a retryable error', async () => {
    for (let i = 0; i < 3; i++) replies.push(json(502, {}))
    const err = (await triggerTrainingWebhook({ url: `${base}/train`, dataset, maxRetries: 2 }, link, { sleep: noWait }).catch(
      (e: unknown) => e,
    )) as WebhookError
    expect(err).toMatchObject({ status: 502, nonRetryable: false })
    expect(seen).toHaveLength(3)
  })

  it('polls the status URL the answer names until the external run is done', async () => {
    replies.push(
      json(201, { id: 'job-3', status_url: '/jobs/job-3' }),
      json(200, { status: 'running' }),
      json(503, {}),
      json(200, { status: 'SUCCEEDED', model: { name: 'carla-prior', version: '12' } }),
    )
    const r = await triggerTrainingWebhook({ url: `${base}/train`, dataset, poll: { intervalMs: 5000 } }, link, { sleep: noWait })
    expect(r.final).toMatchObject({ state: 'succeeded', url: `${base}/jobs/job-3`, polls: 2 })
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /train', 'GET /jobs/job-3', 'GET /jobs/job-3', 'GET /jobs/job-3'])
    expect(waits).toContain(5000)
  })

  it('a failed external run fails the step with its status body; a statusUrl template takes the id', async () => {
    replies.push(json(202, { id: 'j 4' }), json(200, { state: 'failed', reason: 'CUDA out of memory' }))
    const err = (await triggerTrainingWebhook(
      { url: `${base}/train`, dataset, poll: { statusUrl: '/status/{id}', field: 'state', intervalMs: 0 } },
      link,
      { sleep: noWait },
    ).catch((e: unknown) => e)) as TrainingError
    expect(err).toMatchObject({ reason: 'external_failed', nonRetryable: true })
    expect(err.message).toContain('CUDA out of memory')
    expect(seen[1]!.url).toBe('/status/j%204')
  })

  it('bad options name the field', async () => {
    await expect(triggerTrainingWebhook({ url: 'ftp://x', dataset }, link)).rejects.toThrow(/training webhook: url: must be an http/)
  })
})

describe('trainingWebhook (the task)', () => {
  it('records the model outlet when the final status names the model', async () => {
    replies.push(json(202, { id: 'job-5', status_url: '/jobs/job-5' }), json(200, { status: 'done', model: { name: 'carla-det', version: 7 } }))
    const outlets: unknown[] = []
    const spec = trainingWebhook({ url: `${base}/train`, dataset, poll: { intervalMs: 0 } })
    const ctx = {
      ...link,
      inputs: { url: `${base}/train`, dataset, poll: { intervalMs: 0 } },
      tryNumber: 1,
      signal: new AbortController().signal,
      log: () => {},
      progress: () => {},
      outlet: (uri: string, extra: unknown) => void outlets.push([uri, extra]),
    }
    const r = await spec.run(ctx as unknown as TaskContext<unknown, never>)
    expect(r.final?.state).toBe('done')
    expect(outlets).toEqual([['model://carla-det', { version: '7', dataset: 'carla@v4', dataset_md5: dataset.md5, mlflow_run_id: null }]])
  })
})
