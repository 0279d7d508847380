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

  it('artifact proxy: raw PUT with any Content-Type, listing by basename, download, missing file 500, traversal 400, no multipart', async () => {
    const art = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${server.url}/api/2.0/mlflow-artifacts/${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : new TextEncoder().encode(body),
      })
      return {
        status: res.status,
        type: res.headers.get('content-type') ?? '',
        text: await res.text(),
        disposition: res.headers.get('content-disposition'),
      }
    }
    const run = '88f79b2eb75041379c403ae9ab3ac819'
    expect(
      await art('PUT', `artifacts/1/${run}/artifacts/data/manifest.json`, '{"files":3}', { 'content-type': 'application/octet-stream' }),
    ).toMatchObject({
      status: 200,
      type: 'application/json',
      text: '{}',
    })
    expect(
      await art('PUT', `artifacts/1/${run}/artifacts/data/raw.bin`, 'rawbytes', { 'content-type': 'application/x-www-form-urlencoded' }),
    ).toMatchObject({
      status: 200,
      text: '{}',
    })
    expect(JSON.parse((await art('GET', `artifacts?path=1/${run}/artifacts/data`)).text)).toEqual({
      files: [
        { path: 'manifest.json', is_dir: false, file_size: 11 },
        { path: 'raw.bin', is_dir: false, file_size: 8 },
      ],
    })
    expect((await art('GET', 'artifacts')).text).toBe('{\n  "files": [\n    {\n      "path": "1",\n      "is_dir": true\n    }\n  ]\n}')
    expect(await art('GET', `artifacts/1/${run}/artifacts/data/manifest.json`)).toMatchObject({
      status: 200,
      text: '{"files":3}',
      disposition: 'attachment; filename=manifest.json',
    })
    const missing = await art('GET', `artifacts/1/${run}/artifacts/data/none.txt`)
    expect(missing.status).toBe(500)
    expect(JSON.parse(missing.text)).toMatchObject({
      error_code: 'INTERNAL_ERROR',
      message: expect.stringMatching(/^The following failures occurred while downloading one or more artifacts from .*No such file or directory/s),
    })
    expect((await art('GET', 'artifacts/..%2f..%2fetc/passwd')).text).toBe('{"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}')
    expect(await art('DELETE', `artifacts/1/${run}/artifacts/data/raw.bin`)).toMatchObject({ status: 200, text: '{}' })
    expect(JSON.parse((await art('GET', `artifacts?path=1/${run}/artifacts/data`)).text).files).toHaveLength(1)
    const mpu = await art('POST', `mpu/create/1/${run}/artifacts`, '{"path":"big.bin","num_parts":2}', { 'content-type': 'application/json' })
    expect(mpu).toMatchObject({
      status: 501,
      text: '{"error_code": "NOT_IMPLEMENTED", "message": "Multipart upload is not supported for the current artifact repository"}',
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
