/**
 * The artifact proxy of the MLflow double (`/api/2.0/mlflow-artifacts/...`, docs/mlflow-rest.md §5), answering as
 * the captured MLflow 3.6 server with a local artifact store did: PUT stores raw bytes whatever the Content-Type
 * and answers `{}`; GET of a file returns its bytes as an attachment, of a missing one a 500 INTERNAL_ERROR (not a
 * 404); a listing names basenames and omits `files` when empty; '..' anywhere is a 400 "Invalid path"; multipart
 * upload is a 501 on a local store. Test support only.
 */
import { posix } from 'node:path'

export interface ArtifactReply {
  status: number
  contentType: string
  body: string | Buffer
  headers?: Record<string, string>
}

const ROOT = '/mlflow-double/artifacts'
const HTML_405 =
  '<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n'

const json = (status: number, value: unknown): ArtifactReply => ({ status, contentType: 'application/json', body: JSON.stringify(value, null, 2) })
const error = (status: number, code: string, message: string): ArtifactReply => ({
  status,
  contentType: 'application/json',
  body: `{"error_code": ${JSON.stringify(code)}, "message": ${JSON.stringify(message)}}`,
})

function mimeType(name: string): string {
  const ext = posix.extname(name).toLowerCase()
  return ext === '.json' ? 'application/json' : ext === '.txt' ? 'text/plain; charset=utf-8' : 'application/octet-stream'
}

export class ArtifactStore {
  /** Stored files by path relative to the artifact root ('1/<run>/artifacts/model/model.json'). */
  readonly files = new Map<string, Buffer>()

  /** `sub` is the part after `/api/2.0/mlflow-artifacts/`, still percent-encoded. */
  handle(method: string, sub: string, query: URLSearchParams, raw: Buffer): ArtifactReply {
    if (sub.startsWith('mpu/')) {
      if (method !== 'POST') return { status: 405, contentType: 'text/html; charset=utf-8', body: HTML_405 }
      return error(501, 'NOT_IMPLEMENTED', 'Multipart upload is not supported for the current artifact repository')
    }
    if (sub === 'artifacts' || sub === 'artifacts/') {
      if (method !== 'GET') return { status: 405, contentType: 'text/html; charset=utf-8', body: HTML_405 }
      const dir = query.get('path') ?? ''
      if (dir.split('/').includes('..')) return error(400, 'INVALID_PARAMETER_VALUE', 'Invalid path')
      return json(200, this.list(dir.replace(/^\/+|\/+$/g, '')))
    }
    const path = sub
      .slice('artifacts/'.length)
      .split('/')
      .map((s) => decodeURIComponent(s))
      .join('/')
    if (path.split('/').includes('..')) return error(400, 'INVALID_PARAMETER_VALUE', 'Invalid path')
    if (method === 'PUT') {
      this.files.set(path, raw)
      return json(200, {})
    }
    if (method === 'DELETE') {
      for (const key of [...this.files.keys()]) if (key === path || key.startsWith(`${path}/`)) this.files.delete(key)
      return json(200, {})
    }
    if (method !== 'GET') return { status: 405, contentType: 'text/html; charset=utf-8', body: HTML_405 }
    const bytes = this.files.get(path)
    if (!bytes)
      return error(
        500,
        'INTERNAL_ERROR',
        `The following failures occurred while downloading one or more artifacts from ${ROOT}:\n###### File ${path} #####\n[Errno 2] No such file or directory: '${ROOT}/${path}'`,
      )
    const name = posix.basename(path)
    return {
      status: 200,
      contentType: mimeType(name),
      body: bytes,
      headers: { 'content-disposition': `attachment; filename=${name}`, 'x-content-type-options': 'nosniff' },
    }
  }

  /** The entries directly under `dir`: `{}` when there are none, as the server omits empty repeated fields. */
  private list(dir: string): Record<string, unknown> {
    const prefix = dir ? `${dir}/` : ''
    const entries = new Map<string, { path: string; is_dir: boolean; file_size?: number }>()
    for (const [key, bytes] of this.files) {
      if (!key.startsWith(prefix)) continue
      const [name, ...rest] = key.slice(prefix.length).split('/')
      entries.set(name!, rest.length ? { path: name!, is_dir: true } : { path: name!, is_dir: false, file_size: bytes.length })
    }
    const files = [...entries.values()].sort((a, b) => a.path.localeCompare(b.path))
    return files.length ? { files } : {}
  }
}
