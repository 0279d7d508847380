// Run artifacts through the artifact proxy: the bytes arrive whole, a retry sends them again from the start, and an
// upload the server does not list back with its size is an error, never a registered version pointing at nothing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { proxiedPath, uploadRunArtifacts } from '../../../operators/mlflow/artifacts.ts'
import { MlflowClient } from '../../../operators/mlflow/client.ts'
import { MlflowValidationError } from '../../../operators/mlflow/errors.ts'
import { parseConnection } from '../../../operators/mlflow/options.ts'
import { startMlflowDouble, type MlflowDouble } from '../../doubles/mlflow-server.ts'

let server: MlflowDouble
let client: MlflowClient
let dir: string
const RUN = 'mlflow-artifacts:/1/0123456789abcdef0123456789abcdef/artifacts'
const ROOT = '1/0123456789abcdef0123456789abcdef/artifacts'

beforeEach(async () => {
  server = await startMlflowDouble()
  const c = parseConnection({ trackingUri: server.url, retryBaseMs: 1 })
  client = new MlflowClient({ ...c, trackingUri: c.trackingUri! }, { sleep: async () => {} })
  dir = await mkdtemp(path.join(tmpdir(), 'forge-artifacts-'))
})
afterEach(async () => {
  await client.close()
  await server.close()
  await rm(dir, { recursive: true, force: true })
})

async function file(name: string, bytes: Buffer): Promise<string> {
  const p = path.join(dir, name)
  await writeFile(p, bytes)
  return p
}

describe('uploadRunArtifacts', () => {
  it('puts each file under the run artifact root byte for byte, names percent-encoded, and checks the listing', async () => {
    const model = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256))
    const files = [
      { path: 'model/model.bin', file: await file('model.bin', model) },
      { path: 'model/notes #1.txt', file: await file('notes.txt', Buffer.from('prior only\n')) },
      { path: 'model/eval/confusion.json', file: await file('c.json', Buffer.from('{"tp":3}')) },
    ]
    await uploadRunArtifacts(client, RUN, files)
    expect(server.artifacts.files.get(`${ROOT}/model/model.bin`)).toEqual(model)
    expect(server.artifacts.files.get(`${ROOT}/model/notes #1.txt`)?.toString()).toBe('prior only\n')
    expect(server.artifacts.files.get(`${ROOT}/model/eval/confusion.json`)?.toString()).toBe('{"tp":3}')
    const puts = server.requests.filter((r) => r.method === 'PUT').map((r) => r.path)
    expect(puts).toContain(`mlflow-artifacts/artifacts/${ROOT}/model/notes%20%231.txt`)
    const lists = server.requests.filter((r) => r.method === 'GET').map((r) => r.query.get('path'))
    expect(lists.sort()).toEqual([`${ROOT}/model`, `${ROOT}/model/eval`])
  })

  it('a 503 on a PUT is retried with the whole file again', async () => {
    const bytes = Buffer.alloc(100_000, 7)
    server.failNext(1, { status: 503, path: `mlflow-artifacts/artifacts/${ROOT}/model/m.bin` })
    await uploadRunArtifacts(client, RUN, [{ path: 'model/m.bin', file: await file('m.bin', bytes) }])
    const puts = server.requests.filter((r) => r.method === 'PUT')
    expect(puts).toHaveLength(2)
    expect(puts.map((r) => (r.body as Buffer).length)).toEqual([100_000, 100_000])
    expect(server.artifacts.files.get(`${ROOT}/model/m.bin`)).toEqual(bytes)
  })

  it('a file the server does not list back with its size fails the upload', async () => {
    const f = await file('m.bin', Buffer.from('abc'))
    server.failNext(1, { status: 200, path: 'mlflow-artifacts/artifacts', body: '{"files": [{"path": "m.bin", "is_dir": false, "file_size": 2}]}' })
    await expect(uploadRunArtifacts(client, RUN, [{ path: 'model/m.bin', file: f }])).rejects.toThrow(/uploaded 3 bytes, the server lists 2 bytes/)
    server.failNext(1, { status: 200, path: 'mlflow-artifacts/artifacts', body: '{}' })
    await expect(uploadRunArtifacts(client, RUN, [{ path: 'model/m.bin', file: f }])).rejects.toThrow(/the server lists no such file/)
  })

  it('only proxied artifact roots, and only relative paths without ".."', async () => {
    expect(proxiedPath(RUN)).toBe(ROOT)
    expect(proxiedPath('mlflow-artifacts:///1/r/artifacts/')).toBe('1/r/artifacts')
    expect(proxiedPath('mlflow-artifacts://other-host:5000/1/r/artifacts')).toBeNull()
    expect(proxiedPath('s3://bucket/1/r/artifacts')).toBeNull()
    const f = await file('m.bin', Buffer.from('abc'))
    await expect(uploadRunArtifacts(client, 's3://bucket/1/r/artifacts', [{ path: 'model/m.bin', file: f }])).rejects.toThrow(/does not proxy/)
    await expect(uploadRunArtifacts(client, RUN, [{ path: 'model/../../x', file: f }])).rejects.toBeInstanceOf(MlflowValidationError)
    expect(server.requests).toHaveLength(0)
  })
})
