/**
 * An MLflow tracking server double (node:http) answering with the bodies and status codes of a real MLflow 3.6
 * server, as captured in docs/mlflow-rest.md §10: pretty-printed JSON on success, one-line
 * `{"error_code": …, "message": …}` on failure, Flask's HTML 404/405 for unknown routes and methods, and the
 * basic-auth app's plain-text 401; the artifact proxy is in mlflow-artifacts.ts. It keeps state in memory and can be told to fail the next requests (5xx, 429)
 * to exercise retries. Test support only.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ArtifactStore } from './mlflow-artifacts.ts'

type KV = { key: string; value: string }
interface RunState {
  info: Record<string, unknown> & { run_id: string; experiment_id: string; status: string; start_time: number }
  metrics: Map<string, { key: string; value: number; timestamp: number; step: number }>
  params: KV[]
  tags: KV[]
  inputs: Array<{ tags?: KV[]; dataset: Record<string, string> }>
}
interface ModelState {
  model: Record<string, unknown> & { name: string }
  versions: Array<Record<string, unknown> & { version: string }>
  aliases: Map<string, string>
}

export interface RecordedRequest {
  method: string
  path: string
  query: URLSearchParams
  body: unknown
  headers: IncomingMessage['headers']
}

export interface Fault {
  status: number
  contentType?: string
  body?: string
  retryAfter?: string
  /** Only requests whose API path (e.g. 'runs/create') matches; default any. */
  path?: string
}

export interface MlflowDoubleOptions {
  /** Behave like `mlflow server --app-name basic-auth` with this user. */
  basicAuth?: { username: string; password: string }
  /** Behave like a proxy that accepts only this bearer token. */
  bearerToken?: string
}

const NOT_AUTHENTICATED =
  'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.'
const HTML_404 =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n'
const HTML_405 =
  '<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n'
const KEY_RE = /^[/\w.\- :]*$/

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}
const invalid = (m: string): ApiError => new ApiError(400, 'INVALID_PARAMETER_VALUE', m)
const missing = (field: string): ApiError =>
  invalid(`Missing value for required parameter '${field}'. See the API docs for more information about request parameters.`)
const noRun = (id: string): ApiError => new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Run with id=${id} not found`)

export class MlflowDouble {
  readonly requests: RecordedRequest[] = []
  readonly experiments = new Map<string, Record<string, unknown> & { experiment_id: string; name: string; lifecycle_stage: string }>()
  readonly runs = new Map<string, RunState>()
  readonly models = new Map<string, ModelState>()
  /** The artifact proxy's files (`/api/2.0/mlflow-artifacts/...`). */
  readonly artifacts = new ArtifactStore()
  private readonly datasets = new Map<string, Record<string, string>>()
  private faults: Fault[] = []
  private nextExperiment = 1
  url = ''
  private readonly server = createServer((req, res) => void this.handle(req, res))

  constructor(private readonly opts: MlflowDoubleOptions = {}) {
    const now = Date.now()
    this.experiments.set('0', {
      experiment_id: '0',
      name: 'Default',
      artifact_location: 'mlflow-artifacts:/0',
      lifecycle_stage: 'active',
      last_update_time: now,
      creation_time: now,
    })
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  /** The next `count` matching requests get this answer instead of being handled. */
  failNext(count: number, fault: Fault): void {
    for (let i = 0; i < count; i++) this.faults.push(fault)
  }

  /** Requests to one API path ('runs/create'), in order. */
  calls(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const bytes = Buffer.concat(chunks)
    const raw = bytes.toString('utf8')
    const url = new URL(req.url ?? '/', 'http://double')
    const send = (status: number, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': contentType, ...headers })
      res.end(body)
    }
    if (url.pathname === '/health') return send(200, 'text/plain; charset=utf-8', 'OK')
    if (!this.authorised(req.headers.authorization)) {
      return send(401, 'text/html; charset=utf-8', NOT_AUTHENTICATED, { 'www-authenticate': 'Basic realm="mlflow"' })
    }
    const a = /^\/(?:api|ajax-api)\/2\.0\/mlflow-artifacts\/(.+)$/.exec(url.pathname)
    if (a) {
      this.requests.push({
        method: req.method ?? 'GET',
        path: `mlflow-artifacts/${a[1]}`,
        query: url.searchParams,
        body: bytes,
        headers: req.headers,
      })
      const fault = this.takeFault(`mlflow-artifacts/${a[1]}`)
      if (fault) return send(fault.status, fault.contentType, fault.body, fault.headers)
      const r = this.artifacts.handle(req.method ?? 'GET', a[1]!, url.searchParams, bytes)
      return send(r.status, r.contentType, r.body, r.headers)
    }
    const m = /^\/(?:api|ajax-api)\/2\.0\/mlflow\/(.+)$/.exec(url.pathname)
    const path = m?.[1] ?? url.pathname
    let body: unknown = null
    try {
      body = raw ? JSON.parse(raw) : {}
    } catch {
      body = raw
    }
    this.requests.push({ method: req.method ?? 'GET', path, query: url.searchParams, body, headers: req.headers })
    const fault = this.takeFault(path)
    if (fault) return send(fault.status, fault.contentType, fault.body, fault.headers)
    const route = m ? ROUTES[`${req.method} ${path}`] : undefined
    if (!route) {
      const known = m && Object.keys(ROUTES).some((k) => k.endsWith(` ${path}`))
      return known ? send(405, 'text/html; charset=utf-8', HTML_405) : send(404, 'text/html; charset=utf-8', HTML_404)
    }
    try {
      if (req.method !== 'GET') {
        const ct = req.headers['content-type']
        if (!ct) throw invalid('Bad Request. Content-Type header is missing.')
        if (ct.split(';')[0]!.trim() !== 'application/json') throw invalid("Bad Request. Content-Type must be one of ['application/json'].")
      }
      const input = req.method === 'GET' ? url.searchParams : ((body ?? {}) as Record<string, unknown>)
      const out = route(this, input as never)
      send(200, 'application/json', JSON.stringify(out, null, 2))
    } catch (err) {
      if (err instanceof ApiError) return send(err.status, 'application/json', pyJson(err.code, err.message))
      send(500, 'application/json', pyJson('INTERNAL_ERROR', (err as Error).message))
    }
  }

  /** The next injected answer for a request to `path`, removed from the queue. */
  private takeFault(path: string): { status: number; contentType: string; body: string; headers: Record<string, string> } | null {
    const at = this.faults.findIndex((f) => !f.path || f.path === path)
    if (at < 0) return null
    const [f] = this.faults.splice(at, 1)
    return {
      status: f!.status,
      contentType: f!.contentType ?? 'application/json',
      body: f!.body ?? pyJson('INTERNAL_ERROR', 'injected failure'),
      headers: f!.retryAfter ? { 'retry-after': f!.retryAfter } : {},
    }
  }

  private authorised(header: string | undefined): boolean {
    if (this.opts.basicAuth) {
      const { username, password } = this.opts.basicAuth
      return header === 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64')
    }
    if (this.opts.bearerToken) return header === `Bearer ${this.opts.bearerToken}`
    return true
  }

  // State helpers used by the routes.

  run(id: unknown): RunState {
    const r = this.runs.get(String(id))
    if (!r) throw noRun(String(id))
    return r
  }

  runJson(r: RunState, withOutputs: boolean): Record<string, unknown> {
    const data: Record<string, unknown> = {}
    if (r.metrics.size) data.metrics = [...r.metrics.values()]
    if (r.params.length) data.params = r.params
    if (r.tags.length) data.tags = r.tags
    const inputs: Record<string, unknown> = {}
    if (r.inputs.length) inputs.dataset_inputs = r.inputs.map((i) => ({ ...(i.tags?.length ? { tags: i.tags } : {}), dataset: i.dataset }))
    return { info: r.info, data, inputs, ...(withOutputs ? { outputs: {} } : {}) }
  }

  createExperiment(body: Record<string, unknown>): string {
    const name = body.name
    if (typeof name !== 'string' || !name) throw missing('name')
    if ([...this.experiments.values()].some((e) => e.name === name)) {
      throw new ApiError(
        400,
        'RESOURCE_ALREADY_EXISTS',
        `Experiment(name=${name}) already exists. Error: (sqlite3.IntegrityError) UNIQUE constraint failed: experiments.name`,
      )
    }
    const id = String(this.nextExperiment++)
    const now = Date.now()
    const tags = body.tags as KV[] | undefined
    this.experiments.set(id, {
      experiment_id: id,
      name,
      artifact_location: typeof body.artifact_location === 'string' ? body.artifact_location : `mlflow-artifacts:/${id}`,
      lifecycle_stage: 'active',
      last_update_time: now,
      creation_time: now,
      ...(tags?.length ? { tags } : {}),
    })
    return id
  }

  logBatch(body: Record<string, unknown>): void {
    const metrics = (body.metrics ?? []) as Array<Record<string, unknown>>
    const params = (body.params ?? []) as KV[]
    const tags = (body.tags ?? []) as KV[]
    for (const [what, list, max] of [
      ['metrics', metrics, 1000],
      ['params', params, 100],
      ['tags', tags, 100],
    ] as const) {
      if (list.length > max)
        throw invalid(
          `A batch logging request can contain at most ${max} ${what}. Got ${list.length} ${what}. Please split up ${what} across multiple requests and try again.`,
        )
    }
    const total = metrics.length + params.length + tags.length
    if (total > 1000)
      throw invalid(
        `A batch logging request can contain at most 1000 metrics, params, and tags. Got ${total} metrics, params, and tags. Please split up metrics, params, and tags across multiple requests and try again.`,
      )
    const run = this.run(body.run_id)
    if (run.info.lifecycle_stage !== 'active') throw invalid(`The run ${run.info.run_id} must be in the 'active' state. Current state is deleted.`)
    const checkKey = (key: unknown, field: string): void => {
      if (typeof key !== 'string') throw missing(field)
      if (!KEY_RE.test(key))
        throw invalid(
          `Invalid value ${JSON.stringify(key)} for parameter '${field}' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`,
        )
    }
    metrics.forEach((mt, i) => {
      checkKey(mt.key, `metrics[${i}].key`)
      if (mt.value === undefined) throw missing(`metrics[${i}].value`)
      if (mt.timestamp === undefined) throw missing(`metrics[${i}].timestamp`)
    })
    params.forEach((p, i) => checkKey(p.key, `params[${i}].key`))
    tags.forEach((t, i) => checkKey(t.key, `tags[${i}].key`))
    const keys = params.map((p) => p.key)
    const dups = [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))]
    if (dups.length)
      throw invalid(
        `Duplicate parameter keys have been submitted: [${dups.map((d) => `'${d}'`).join(', ')}]. Please ensure the request contains only one param value per param key.`,
      )
    const changed = params
      .map((p) => ({ p, old: run.params.find((q) => q.key === p.key) }))
      .filter(({ p, old }) => old && old.value !== String(p.value).slice(0, 6000))
    if (changed.length) {
      const list = changed.map(({ p, old }) => `{'key': '${p.key}', 'old_value': '${old!.value}', 'new_value': '${p.value}'}`).join(', ')
      throw invalid(`Changing param values is not allowed. Params were already logged='[${list}]' for run ID='${run.info.run_id}'.`)
    }
    for (const p of params) if (!run.params.some((q) => q.key === p.key)) run.params.push({ key: p.key, value: String(p.value).slice(0, 6000) })
    for (const t of tags) {
      const value = String(t.value).slice(0, 8000)
      const at = run.tags.findIndex((q) => q.key === t.key)
      if (at >= 0) run.tags[at] = { key: t.key, value }
      else run.tags.push({ key: t.key, value })
    }
    for (const mt of metrics) {
      // A wrongly typed value is stored as 0 with timestamp 0, as the real server's half-parsed proto does.
      const ok = typeof mt.value === 'number'
      run.metrics.set(String(mt.key), {
        key: String(mt.key),
        value: ok ? (mt.value as number) : 0,
        timestamp: ok ? Number(mt.timestamp) : 0,
        step: ok ? Number(mt.step ?? 0) : 0,
      })
    }
  }

  logInputs(body: Record<string, unknown>): void {
    const run = this.run(body.run_id)
    const seen = new Set<string>()
    for (const d of (body.datasets ?? []) as Array<{ tags?: KV[]; dataset: Record<string, string> }>) {
      const ds = d.dataset ?? {}
      if ((ds.name ?? '').length > 500) throw invalid("'name' exceeds the maximum length of 500 characters")
      if ((ds.digest ?? '').length > 36) throw invalid("'digest' exceeds the maximum length of 36 characters")
      for (const t of d.tags ?? []) {
        if (t.key.length > 255) throw invalid("'key' exceeds the maximum length of 255 characters")
        if (t.value.length > 500) throw invalid("'value' exceeds the maximum length of 500 characters")
      }
      const id = `${ds.name}\u0000${ds.digest}`
      if (seen.has(id)) continue
      seen.add(id)
      if (!this.datasets.has(id)) {
        this.datasets.set(id, {
          name: ds.name ?? '',
          digest: ds.digest ?? '',
          source_type: ds.source_type ?? '',
          source: ds.source ?? '',
          ...(ds.schema ? { schema: ds.schema } : {}),
          ...(ds.profile ? { profile: ds.profile } : {}),
        })
      }
      if (run.inputs.some((i) => i.dataset.name === ds.name && i.dataset.digest === ds.digest)) continue // tags fixed at first log
      run.inputs.push({ tags: d.tags, dataset: this.datasets.get(id)! })
    }
  }

  searchRuns(body: Record<string, unknown>): Record<string, unknown> {
    const max = body.max_results === undefined ? 1000 : Number(body.max_results)
    if (max > 50000)
      throw invalid(
        `Invalid value ${max} for parameter 'max_results' supplied:  Hint: Value was of type 'int'. See the API docs for more information about request parameters.`,
      )
    const ids = ((body.experiment_ids ?? []) as unknown[]).map(String)
    const clauses = typeof body.filter === 'string' && body.filter.trim() ? body.filter.split(/\s+and\s+/i) : []
    const tests = clauses.map((c) => {
      const cm = /^\s*(tags|params|attributes)\.(?:`([^`]+)`|"([^"]+)"|([\w.]+))\s*(\S+)\s*'([^']*)'\s*$/.exec(c)
      if (!cm) throw invalid(`Invalid filter '${String(body.filter)}'`)
      const [, kind, k1, k2, k3, op, value] = cm
      if (!['=', '!=', 'LIKE', 'ILIKE'].includes(op!)) throw invalid(`Invalid comparator '${op}' not one of '{'!=', 'ILIKE', '=', 'LIKE'}'`)
      const key = (k1 ?? k2 ?? k3)!
      return (r: RunState): boolean => {
        const list = kind === 'tags' ? r.tags : kind === 'params' ? r.params : [{ key, value: String(r.info[key] ?? '') }]
        const got = list.find((x) => x.key === key)?.value
        return op === '!=' ? got !== value : got === value
      }
    })
    const view = body.run_view_type ?? 'ACTIVE_ONLY'
    let hits = [...this.runs.values()].filter(
      (r) =>
        ids.includes(r.info.experiment_id) &&
        (view === 'ALL' || (view === 'DELETED_ONLY') === (r.info.lifecycle_stage === 'deleted')) &&
        tests.every((t) => t(r)),
    )
    const order = ((body.order_by ?? []) as string[])[0]
    hits.sort((a, b) => (order === 'attributes.start_time ASC' ? a.info.start_time - b.info.start_time : b.info.start_time - a.info.start_time))
    const offset =
      typeof body.page_token === 'string' ? (JSON.parse(Buffer.from(body.page_token, 'base64').toString()) as { offset: number }).offset : 0
    const page = hits.slice(offset, offset + max)
    hits = hits.slice(offset + max)
    const out: Record<string, unknown> = {}
    if (page.length) out.runs = page.map((r) => this.runJson(r, true))
    if (hits.length) out.next_page_token = Buffer.from(JSON.stringify({ offset: offset + max })).toString('base64')
    return out
  }

  model(name: unknown): ModelState {
    const m = this.models.get(String(name))
    if (!m) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${String(name)} not found`)
    return m
  }

  modelJson(m: ModelState): Record<string, unknown> {
    const out: Record<string, unknown> = { ...m.model }
    const latest = new Map<string, Record<string, unknown>>()
    for (const v of m.versions) latest.set(String(v.current_stage), v)
    if (latest.size) out.latest_versions = [...latest.values()]
    if (m.aliases.size) out.aliases = [...m.aliases].map(([alias, version]) => ({ alias, version }))
    return out
  }

  versionJson(m: ModelState, v: Record<string, unknown> & { version: string }): Record<string, unknown> {
    const aliases = [...m.aliases].filter(([, ver]) => ver === v.version).map(([a]) => a)
    return { ...v, ...(aliases.length ? { aliases } : {}) }
  }
}

type Handler = (s: MlflowDouble, input: Record<string, unknown> & URLSearchParams) => unknown

function checkAlias(alias: string): void {
  if (!/^[\w-]*$/.test(alias)) throw invalid(`Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`)
  if (alias.toLowerCase() === 'latest') throw invalid("'latest' alias name (case insensitive) is reserved.")
  if (/^v\d+$/i.test(alias)) throw invalid(`Version alias name '${alias}' is reserved.`)
}

const ROUTES: Record<string, Handler> = {
  'GET experiments/get-by-name': (s, q) => {
    const name = q.get('experiment_name')
    const found = [...s.experiments.values()].filter((e) => e.name === name).sort((a) => (a.lifecycle_stage === 'active' ? -1 : 1))[0]
    if (!found) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`)
    return { experiment: found }
  },
  'POST experiments/create': (s, b) => ({ experiment_id: s.createExperiment(b) }),
  'POST runs/create': (s, b) => {
    if (b.experiment_id === undefined) throw new ApiError(400, 'BAD_REQUEST', '(sqlite3.IntegrityError) FOREIGN KEY constraint failed')
    const expId = String(b.experiment_id)
    const exp = s.experiments.get(expId)
    if (!exp) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${expId} exists`)
    const runId = randomBytes(16).toString('hex')
    const runName = typeof b.run_name === 'string' ? b.run_name : `run-${runId.slice(0, 6)}`
    const tags = [...((b.tags ?? []) as KV[])]
    if (!tags.some((t) => t.key === 'mlflow.runName')) tags.push({ key: 'mlflow.runName', value: runName })
    const run: RunState = {
      info: {
        run_uuid: runId,
        experiment_id: expId,
        run_name: runName,
        user_id: '',
        status: 'RUNNING',
        start_time: Number(b.start_time ?? 0),
        artifact_uri: `mlflow-artifacts:/${expId}/${runId}/artifacts`,
        lifecycle_stage: 'active',
        run_id: runId,
      },
      metrics: new Map(),
      params: [],
      tags,
      inputs: [],
    }
    s.runs.set(runId, run)
    return { run: s.runJson(run, false) }
  },
  'POST runs/update': (s, b) => {
    const run = s.run(b.run_id ?? b.run_uuid)
    if (typeof b.status === 'string' && ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'].includes(b.status)) run.info.status = b.status
    if (b.end_time !== undefined) run.info.end_time = Number(b.end_time)
    if (typeof b.run_name === 'string') run.info.run_name = b.run_name
    const { run_uuid, experiment_id, run_name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage, run_id } = run.info
    return {
      run_info: {
        run_uuid,
        experiment_id,
        run_name,
        user_id,
        status,
        start_time,
        ...(end_time !== undefined ? { end_time } : {}),
        artifact_uri,
        lifecycle_stage,
        run_id,
      },
    }
  },
  'GET runs/get': (s, q) => ({ run: s.runJson(s.run(q.get('run_id')), true) }),
  'POST runs/search': (s, b) => s.searchRuns(b),
  'POST runs/log-batch': (s, b) => (s.logBatch(b), {}),
  'POST runs/log-inputs': (s, b) => (s.logInputs(b), {}),
  'POST registered-models/create': (s, b) => {
    const name = String(b.name ?? '')
    if (!name) throw missing('name')
    if (s.models.has(name)) throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`)
    const now = Date.now()
    const tags = b.tags as KV[] | undefined
    const model = {
      name,
      creation_timestamp: now,
      last_updated_timestamp: now,
      ...(b.description ? { description: b.description } : {}),
      ...(tags?.length ? { tags } : {}),
    }
    s.models.set(name, { model, versions: [], aliases: new Map() })
    return { registered_model: model }
  },
  'GET registered-models/get': (s, q) => ({ registered_model: s.modelJson(s.model(q.get('name'))) }),
  'POST model-versions/create': (s, b) => {
    const m = s.model(b.name)
    const now = Date.now()
    const tags = b.tags as KV[] | undefined
    const v = {
      name: m.model.name,
      version: String(m.versions.length + 1),
      creation_timestamp: now,
      last_updated_timestamp: now,
      current_stage: 'None',
      description: String(b.description ?? ''),
      source: String(b.source ?? ''),
      run_id: String(b.run_id ?? ''),
      status: 'READY',
      ...(tags?.length ? { tags } : {}),
      run_link: '',
    }
    m.versions.push(v)
    return { model_version: v }
  },
  'POST registered-models/alias': (s, b) => {
    const m = s.model(b.name)
    const alias = String(b.alias ?? '')
    checkAlias(alias)
    if (!m.versions.some((v) => v.version === String(b.version))) {
      throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Model Version (name=${m.model.name}, version=${String(b.version)}) not found`)
    }
    m.aliases.set(alias, String(b.version))
    return {}
  },
  'GET registered-models/alias': (s, q) => {
    const m = s.model(q.get('name'))
    const alias = q.get('alias') ?? ''
    const version = m.aliases.get(alias)
    if (!version) throw invalid(`Registered model alias ${alias} not found.`)
    return {
      model_version: s.versionJson(
        m,
        m.versions.find((v) => v.version === version)!,
      ),
    }
  },
  'DELETE registered-models/alias': (s, b) => {
    s.model(b.name).aliases.delete(String(b.alias))
    return {}
  },
}

function pyJson(code: string, message: string): string {
  return `{"error_code": ${JSON.stringify(code)}, "message": ${JSON.stringify(message)}}`
}

export async function startMlflowDouble(opts: MlflowDoubleOptions = {}): Promise<MlflowDouble> {
  return new MlflowDouble(opts).start()
}
