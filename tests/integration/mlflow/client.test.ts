import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MlflowClient } from '../../../operators/mlflow/client.ts'
import {
  InvalidParameterValueError,
  MlflowHttpError,
  MlflowNetworkError,
  MlflowValidationError,
  RateLimitedError,
  ResourceAlreadyExistsError,
  ResourceDoesNotExistError,
  ServerError,
  UnauthenticatedError,
} from '../../../operators/mlflow/errors.ts'
import { parseConnection, type MlflowConnectionInput } from '../../../operators/mlflow/options.ts'
import { registerModelVersion } from '../../../operators/mlflow/register-model.ts'
import { startMlflowDouble, type MlflowDouble, type MlflowDoubleOptions } from '../../doubles/mlflow-server.ts'

let server: MlflowDouble
let clients: MlflowClient[] = []
let delays: number[] = []

async function open(opts: MlflowDoubleOptions = {}, conn: Partial<MlflowConnectionInput> = {}): Promise<MlflowClient> {
  server = await startMlflowDouble(opts)
  return connect(conn)
}
function connect(conn: Partial<MlflowConnectionInput> = {}): MlflowClient {
  const c = parseConnection({ trackingUri: server.url, retryBaseMs: 100, ...conn })
  const client = new MlflowClient({ ...c, trackingUri: c.trackingUri! }, { sleep: async (ms) => void delays.push(ms) })
  clients.push(client)
  return client
}

beforeEach(() => {
  delays = []
  clients = []
})
afterEach(async () => {
  for (const c of clients) await c.close()
  await server?.close()
})

describe('MlflowClient against the MLflow double', () => {
  it('errors are typed by error_code: a duplicate experiment is RESOURCE_ALREADY_EXISTS with HTTP 400, not retried', async () => {
    const client = await open()
    expect(await client.createExperiment('dataset-pipeline')).toBe('1')
    const err = await client.createExperiment('dataset-pipeline').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ResourceAlreadyExistsError)
    expect(err).toMatchObject({ status: 400, errorCode: 'RESOURCE_ALREADY_EXISTS', nonRetryable: true })
    expect(server.calls('experiments/create')).toHaveLength(2)
    expect(await client.getExperimentByName('nope')).toBeNull()
    await expect(client.getRun('0123456789abcdef0123456789abcdef')).rejects.toBeInstanceOf(ResourceDoesNotExistError)
    await expect(client.createRun({ experimentId: '999999' })).rejects.toMatchObject({
      status: 404,
      message: expect.stringContaining('No Experiment with id=999999 exists'),
    })
  })

  it('get-or-create experiment creates once, and looks up again when a concurrent create won the race', async () => {
    const client = await open()
    const a = await client.getOrCreateExperiment('builds')
    const b = await client.getOrCreateExperiment('builds')
    expect(a.experiment_id).toBe(b.experiment_id)
    expect(server.calls('experiments/create')).toHaveLength(1)

    // The lookup misses, then another process creates the experiment before our create lands.
    server.failNext(1, {
      status: 404,
      path: 'experiments/get-by-name',
      body: `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Could not find experiment with name 'raced'"}`,
    })
    server.createExperiment({ name: 'raced' })
    const raced = await client.getOrCreateExperiment('raced')
    expect(raced.name).toBe('raced')
    expect(server.calls('experiments/create')).toHaveLength(2) // ours, answered RESOURCE_ALREADY_EXISTS
    expect(
      server
        .calls('experiments/get-by-name')
        .slice(-2)
        .map((r) => r.query.get('experiment_name')),
    ).toEqual(['raced', 'raced'])
  })

  it('retries 5xx and 429 with backoff (Retry-After honoured), never 400s, and gives up after maxRetries', async () => {
    const client = await open({}, { maxRetries: 3 })
    const exp = await client.createExperiment('e')
    server.failNext(2, { status: 503, path: 'runs/create', body: '{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}' })
    const run = await client.createRun({ experimentId: exp })
    expect(run.info.status).toBe('RUNNING')
    expect(server.calls('runs/create')).toHaveLength(3)
    expect(delays).toHaveLength(2)
    expect(delays[0]).toBeGreaterThanOrEqual(50)
    expect(delays[1]).toBeGreaterThanOrEqual(100)

    delays = []
    server.failNext(1, { status: 429, path: 'runs/get', retryAfter: '2', body: '{"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"}' })
    await client.getRun(run.info.run_id)
    expect(delays).toEqual([2000])

    const before = server.calls('runs/log-batch').length
    await expect(client.logBatch(run.info.run_id, { params: [{ key: 'p', value: 'a' }] })).resolves.toBe(1)
    await expect(client.logBatch(run.info.run_id, { params: [{ key: 'p', value: 'b' }] })).rejects.toBeInstanceOf(InvalidParameterValueError)
    expect(server.calls('runs/log-batch')).toHaveLength(before + 2)

    server.failNext(4, { status: 500, path: 'runs/get' })
    const err = await client.getRun(run.info.run_id).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ServerError)
    expect(err).toMatchObject({ status: 500, errorCode: 'INTERNAL_ERROR', nonRetryable: false })
  })

  it('non-JSON answers and unreachable servers get their own classes', async () => {
    const client = await open({}, { maxRetries: 1 })
    const err = await client.http.call('GET', 'nope').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MlflowHttpError)
    expect(err).toMatchObject({ status: 404, errorCode: 'HTTP_404', message: expect.stringContaining('no such endpoint') })
    await expect(client.http.call('GET', 'experiments/create')).rejects.toMatchObject({ status: 405 })
    const url = server.url
    await server.close()
    const gone = new MlflowClient({ ...parseConnection({ trackingUri: url, maxRetries: 1 }), trackingUri: url }, { sleep: async () => {} })
    clients.push(gone)
    await expect(gone.getExperimentByName('x')).rejects.toBeInstanceOf(MlflowNetworkError)
    server = await startMlflowDouble() // for afterEach
  })

  it('Basic auth from username/password (winning over a token), bearer from a token', async () => {
    await open({ basicAuth: { username: 'admin', password: 'password1234' } })
    await expect(connect().getExperimentByName('Default')).rejects.toMatchObject({ status: 401, constructor: UnauthenticatedError })
    await expect(connect({ username: 'admin', password: 'wrong' }).getExperimentByName('Default')).rejects.toBeInstanceOf(UnauthenticatedError)
    expect((await connect({ username: 'admin', password: 'password1234', token: 'abc' }).getExperimentByName('Default'))?.experiment_id).toBe('0')
    expect(server.requests.at(-1)?.headers.authorization).toBe('Basic YWRtaW46cGFzc3dvcmQxMjM0')
    await server.close()
    server = await startMlflowDouble({ bearerToken: 'abc123' })
    expect((await connect({ token: 'abc123' }).getExperimentByName('Default'))?.name).toBe('Default')
    await expect(connect({ token: 'other' }).getExperimentByName('Default')).rejects.toBeInstanceOf(UnauthenticatedError)
  })

  it('log-batch splits params, tags and metrics within MLflow limits; bad keys are refused before sending', async () => {
    const client = await open()
    const run = await client.createRun({ experimentId: await client.createExperiment('e') })
    const id = run.info.run_id
    const n = await client.logBatch(id, {
      params: Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: 'x' })),
      tags: Array.from({ length: 150 }, (_, i) => ({ key: `t${i}`, value: 'y' })),
      metrics: Array.from({ length: 1500 }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i })),
    })
    const sent = server.calls('runs/log-batch').map((r) => r.body as { params: unknown[]; tags: unknown[]; metrics: unknown[] })
    expect(sent).toHaveLength(n)
    for (const b of sent) {
      expect(b.params.length).toBeLessThanOrEqual(100)
      expect(b.tags.length).toBeLessThanOrEqual(100)
      expect(b.metrics.length).toBeLessThanOrEqual(1000)
      expect(b.params.length + b.tags.length + b.metrics.length).toBeLessThanOrEqual(1000)
    }
    const stored = server.runs.get(id)!
    expect(stored.params).toHaveLength(250)
    expect(stored.tags.filter((t) => t.key.startsWith('t'))).toHaveLength(150)
    const before = server.requests.length
    await expect(client.logBatch(id, { params: [{ key: 'a*b', value: '1' }] })).rejects.toMatchObject({
      constructor: MlflowValidationError,
      field: 'params[0].key',
    })
    await expect(client.logBatch(id, { params: [{ key: 'long', value: 'a'.repeat(6001) }] })).rejects.toThrow(/exceeds 6000/)
    await expect(client.logBatch(id, { metrics: [{ key: 'm', value: Number.NaN, timestamp: 1 }] })).rejects.toThrow(/finite number/)
    await expect(client.updateRun(id, { status: 'DONE' as never })).rejects.toThrow(/not one of/)
    expect(server.requests.length).toBe(before)
  })

  it('search runs follows next_page_token to the end', async () => {
    const client = await open()
    const exp = await client.createExperiment('e')
    for (let i = 0; i < 5; i++) await client.createRun({ experimentId: exp, tags: [{ key: 'k', value: i % 2 ? 'odd' : 'even' }] })
    const paged = await client.searchRuns({ experimentIds: [exp], pageSize: 2 })
    expect(paged).toHaveLength(5)
    expect(new Set(paged.map((r) => r.info.run_id)).size).toBe(5)
    expect(server.calls('runs/search').map((r) => (r.body as { page_token?: string }).page_token !== undefined)).toEqual([false, true, true])
    const before = server.calls('runs/search').length
    const small = connect()
    const even = await small.searchRuns({ experimentIds: [exp], filter: "tags.k = 'even'" })
    expect(even.map((r) => r.data.tags?.find((t) => t.key === 'k')?.value)).toEqual(['even', 'even', 'even'])
    expect(server.calls('runs/search').length - before).toBe(1)
    await expect(client.searchRuns({ experimentIds: [exp], filter: "params.split ~ 'x'" })).rejects.toThrow(/Invalid comparator/)
  })

  it('model registry: a version with an alias, reused when the alias already points at the same source', async () => {
    const client = await open()
    const run = await client.createRun({ experimentId: await client.createExperiment('train') })
    const source = `runs:/${run.info.run_id}/model`
    const first = await registerModelVersion(client, { name: 'detector', source, runId: run.info.run_id, alias: 'champion' })
    expect(first).toMatchObject({ created: true, version: { version: '1', aliases: ['champion'] } })
    const again = await registerModelVersion(client, { name: 'detector', source, runId: run.info.run_id, alias: 'champion' })
    expect(again).toMatchObject({ created: false, version: { version: '1' } })
    const next = await registerModelVersion(client, { name: 'detector', source: 's3://models/detector/2', alias: 'champion' })
    expect(next.version.version).toBe('2')
    expect((await client.getModelVersionByAlias('detector', 'champion'))?.version).toBe('2')
    expect(await client.getModelVersionByAlias('detector', 'challenger')).toBeNull()
    await client.deleteAlias('detector', 'champion')
    expect(await client.getModelVersionByAlias('detector', 'champion')).toBeNull()
    await expect(registerModelVersion(client, { name: 'detector', source, alias: 'latest' })).rejects.toThrow(/reserved/)
    await expect(registerModelVersion(client, { name: 'detector', source, alias: 'v2' })).rejects.toThrow(/reserved/)
    await expect(
      client.http.call('POST', 'registered-models/alias', { body: { name: 'detector', alias: 'x', version: '7' } }),
    ).rejects.toBeInstanceOf(ResourceDoesNotExistError)
    expect(server.calls('model-versions/transition-stage')).toHaveLength(0)
  })

  it('every POST carries Content-Type: application/json (the server refuses it otherwise)', async () => {
    const client = await open()
    await client.createExperiment('ct')
    for (const r of server.requests.filter((q) => q.method === 'POST')) expect(r.headers['content-type']).toBe('application/json')
    const res = await fetch(`${server.url}/api/2.0/mlflow/runs/log-batch`, { method: 'POST', body: '{}', headers: { 'content-type': 'text/plain' } })
    expect(res.status).toBe(400)
  })
})

describe('RateLimitedError', () => {
  it('is what a 429 without an MLflow body becomes', async () => {
    const client = await open({}, { maxRetries: 0 })
    server.failNext(1, { status: 429, contentType: 'text/plain', body: 'Too Many Requests' })
    await expect(client.getExperimentByName('x')).rejects.toBeInstanceOf(RateLimitedError)
  })
})
