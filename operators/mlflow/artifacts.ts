/**
 * Run artifacts through the tracking server's artifact proxy (docs/mlflow-rest.md §5). A run's `artifact_uri`
 * `mlflow-artifacts:/<experiment>/<run>/artifacts` is served at `/api/2.0/mlflow-artifacts/artifacts/<same path>`:
 * each file is PUT as raw bytes, then its folder is listed back and every file must be there with its size, so a
 * model version registered afterwards points at bytes the server holds.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { posix } from 'node:path'
import type { MlflowClient } from './client.ts'
import { MlflowHttpError, MlflowValidationError } from './errors.ts'

/** A local file and where it goes, relative to the run's artifact root ('model/model.json'). */
export interface ArtifactFile {
  path: string
  file: string
}

export interface ArtifactEntry {
  path: string
  is_dir: boolean
  file_size?: number
}

const UPLOAD = 'PUT mlflow-artifacts/artifacts'

/** The proxy path of an `mlflow-artifacts:/…` URI, or null for any other store (s3://, file:, a proxy on another host). */
export function proxiedPath(artifactUri: string): string | null {
  const m = /^mlflow-artifacts:(?:\/\/\/|\/(?!\/))(.*?)\/*$/.exec(artifactUri)
  return m ? m[1]! : null
}

/** Each segment percent-encoded: a name may hold spaces or '#', never a '..' (the server refuses those with a 400). */
function encodePath(p: string): string {
  return p
    .split('/')
    .map((seg) => encodeURIComponent(seg))
    .join('/')
}

function checkRelative(p: string): void {
  const parts = p.split('/')
  if (!p || p.startsWith('/') || parts.some((s) => s === '' || s === '.' || s === '..'))
    throw new MlflowValidationError(`artifact path ${JSON.stringify(p)}: a relative path without empty, '.' or '..' parts`, UPLOAD, 'path')
}

/** Uploads one file's bytes to `<root>/<path>` on the proxy. A retry opens the file again. */
export async function putArtifact(client: MlflowClient, proxyPath: string, file: string): Promise<void> {
  const { size } = await stat(file)
  await client.http.call('PUT', `artifacts/${encodePath(proxyPath)}`, {
    service: 'mlflow-artifacts',
    raw: { body: () => createReadStream(file), contentType: 'application/octet-stream', length: size },
  })
}

/** The entries directly under a proxy folder (basenames; the server omits `files` when there are none). */
export async function listArtifacts(client: MlflowClient, proxyPath: string): Promise<ArtifactEntry[]> {
  const r = await client.http.call<{ files?: ArtifactEntry[] }>('GET', 'artifacts', { service: 'mlflow-artifacts', query: { path: proxyPath } })
  return r.files ?? []
}

/** Uploads `files` under the run's artifact root and checks that the server lists each one with its size. */
export async function uploadRunArtifacts(client: MlflowClient, artifactUri: string, files: ArtifactFile[]): Promise<void> {
  const root = proxiedPath(artifactUri)
  if (root === null)
    throw new MlflowValidationError(
      `the run's artifacts live at ${artifactUri}, which the tracking server does not proxy (mlflow-artifacts:/…): upload the model there yourself and give its URI as the model's source`,
      UPLOAD,
      'artifact_uri',
    )
  const sizes = new Map<string, number>()
  for (const f of files) {
    checkRelative(f.path)
    sizes.set(f.path, (await stat(f.file)).size)
    await putArtifact(client, `${root}/${f.path}`, f.file)
  }
  const byDir = new Map<string, string[]>()
  for (const p of sizes.keys()) byDir.set(posix.dirname(p), [...(byDir.get(posix.dirname(p)) ?? []), p])
  for (const [dir, paths] of byDir) {
    const listed = await listArtifacts(client, dir === '.' ? root : `${root}/${dir}`)
    for (const p of paths) {
      const entry = listed.find((e) => e.path === posix.basename(p) && !e.is_dir)
      if (entry?.file_size !== sizes.get(p))
        throw new MlflowHttpError(
          `MLflow artifact ${root}/${p}: uploaded ${sizes.get(p)} bytes, the server lists ${entry ? `${entry.file_size} bytes` : 'no such file'}`,
          200,
          'ARTIFACT_MISMATCH',
          UPLOAD,
        )
    }
  }
}
