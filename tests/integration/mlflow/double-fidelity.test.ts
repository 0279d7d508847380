// The double must answer as the real server did in the captures the client was written against.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMlflowDouble, type MlflowDouble } from '../../doubles/mlflow-server.ts'

let server: MlflowDouble
beforeAll(async () => {
  server = await startMlflowDouble()
})
afterAll(async () => {
  await server.close()
})

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<{ status: number; type: string; text: string }> {
  // Bytes, not a string: fetch would add 'text/plain' to a string body.
  const bytes = body === undefined ? undefined : new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body))
  const res = await fetch(`${server.url}/api/2.0/mlflow/${path}`, { method, headers: body === undefined ? {} : headers, body: bytes })
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() }
}

describe('MLflow double: bodies and statuses as captured from MLflow 3.6', () => {
  it('experiments: create, missing name, unknown name, pretty-printed success', async () => {
    expect(await call('POST', 'experiments/create', { name: 'dataset-pipeline', tags: [{ key: 'team', value: 'data' }] })).toMatchObject({
      status: 200,
      text: '{\n  "experiment_id": "1"\n}',
    })
    expect(await call('POST', 'experiments/create', {})).toEqual({
      status: 400,
      type: 'application/json',
      text: `{"error_code": "INVALID_PARAMETER_VALUE", "message": "Missing value for required parameter 'name'. See the API docs for more information about request parameters."}`,
    })
    expect((await call('GET', 'experiments/get-by-name?experiment_name=nope')).text).toBe(
      `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Could not find experiment with name 'nope'"}`,
    )
    const dup = await call('POST', 'experiments/create', { name: 'dataset-pipeline' })
    expect(dup.status).toBe(400)
    expect(JSON.parse(dup.text).error_code).toBe('RESOURCE_ALREADY_EXISTS')
  })

  it('runs: create shape, log-batch limits and refusals, log-inputs digest limit', async () => {
    const created = await call('POST', 'runs/create', { experiment_id: '1', run_name: 'ingest-v1', start_time: 1764201600000 })
    const run = JSON.parse(created.text).run
    expect(Object.keys(run)).toEqual(['info', 'data', 'inputs'])
    expect(Object.keys(run.info)).toEqual([
      'run_uuid',
      'experiment_id',
      'run_name',
      'user_id',
      'status',
      'start_time',
      'artifact_uri',
      'lifecycle_stage',
      'run_id',
    ])
    expect(run.data.tags).toEqual([{ key: 'mlflow.runName', value: 'ingest-v1' }])
    const id = run.info.run_id as string
    const params = Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'x' }))
    expect((await call('POST', 'runs/log-batch', { run_id: id, params })).text).toBe(
      '{"error_code": "INVALID_PARAMETER_VALUE", "message": "A batch logging request can contain at most 100 params. Got 101 params. Please split up params across multiple requests and try again."}',
    )
    expect(await call('POST', 'runs/log-batch', { run_id: id, params: [{ key: 'split', value: 'train' }] })).toMatchObject({
      status: 200,
      text: '{}',
    })
    expect((await call('POST', 'runs/log-batch', { run_id: id, params: [{ key: 'split', value: 'test' }] })).text).toBe(
      `{"error_code": "INVALID_PARAMETER_VALUE", "message": "Changing param values is not allowed. Params were already logged='[{'key': 'split', 'old_value': 'train', 'new_value': 'test'}]' for run ID='${id}'."}`,
    )
    expect((await call('POST', 'runs/log-batch', `{"run_id":"${id}"}`, {})).text).toBe(
      '{"error_code": "INVALID_PARAMETER_VALUE", "message": "Bad Request. Content-Type header is missing."}',
    )
    const d40 = await call('POST', 'runs/log-inputs', {
      run_id: id,
      datasets: [{ dataset: { name: 'reviews', digest: '0123456789012345678901234567890123456789', source_type: 's3', source: '{}' } }],
    })
    expect(d40).toMatchObject({
      status: 400,
      text: `{"error_code": "INVALID_PARAMETER_VALUE", "message": "'digest' exceeds the maximum length of 36 characters"}`,
    })
    expect((await call('GET', 'runs/get?run_id=0123456789abcdef0123456789abcdef')).text).toBe(
      '{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run with id=0123456789abcdef0123456789abcdef not found"}',
    )
  })

  it('registry: duplicate model, reserved and missing aliases', async () => {
    await call('POST', 'registered-models/create', { name: 'reviews-classifier' })
    expect((await call('POST', 'registered-models/create', { name: 'reviews-classifier' })).text).toBe(
      '{"error_code": "RESOURCE_ALREADY_EXISTS", "message": "Registered Model (name=reviews-classifier) already exists."}',
    )
    await call('POST', 'model-versions/create', { name: 'reviews-classifier', source: 's3://bucket/models/reviews/v1' })
    expect((await call('POST', 'registered-models/alias', { name: 'reviews-classifier', alias: 'latest', version: '1' })).text).toBe(
      `{"error_code": "INVALID_PARAMETER_VALUE", "message": "'latest' alias name (case insensitive) is reserved."}`,
    )
    expect((await call('POST', 'registered-models/alias', { name: 'reviews-classifier', alias: 'x', version: '7' })).status).toBe(404)
    expect(await call('GET', 'registered-models/alias?name=reviews-classifier&alias=champion')).toMatchObject({
      status: 400,
      text: '{"error_code": "INVALID_PARAMETER_VALUE", "message": "Registered model alias champion not found."}',
    })
  })

  it('unknown routes and wrong methods are HTML pages', async () => {
    expect(await call('GET', 'nope')).toMatchObject({
      status: 404,
      type: 'text/html; charset=utf-8',
      text: expect.stringContaining('<title>404 Not Found</title>'),
    })
    expect(await call('GET', 'experiments/create')).toMatchObject({
      status: 405,
      text: expect.stringContaining('<title>405 Method Not Allowed</title>'),
    })
  })
})
