/**
 * A typed MLflow tracking and registry client over REST (docs/mlflow-rest.md §2-4). Each method is one
 * endpoint, except the get-or-create helpers, which follow the race-safe idiom of §2.2: look up, create on
 * RESOURCE_DOES_NOT_EXIST, and look up again when the create lost a race (RESOURCE_ALREADY_EXISTS).
 */
import { MlflowHttp, type HttpEnv } from './http.ts'
import { ResourceAlreadyExistsError, ResourceDoesNotExistError, MlflowValidationError } from './errors.ts'
import { LIMITS, checkValue, splitBatches, type Batch } from './limits.ts'
import type { MlflowConnection } from './options.ts'
import {
  RunStatus,
  type DatasetInput,
  type Experiment,
  type KeyValue,
  type ModelVersion,
  type RegisteredModel,
  type Run,
  type RunInfo,
} from './types.ts'

const ALIAS = /^[\w-]*$/

export class MlflowClient {
  readonly http: MlflowHttp

  constructor(connection: MlflowConnection & { trackingUri: string }, env: HttpEnv = {}) {
    this.http = new MlflowHttp(connection, env)
  }

  close(): Promise<void> {
    return this.http.close()
  }

  // Experiments (§2)

  async getExperimentByName(name: string): Promise<Experiment | null> {
    try {
      const r = await this.http.call<{ experiment: Experiment }>('GET', 'experiments/get-by-name', { query: { experiment_name: name } })
      return r.experiment
    } catch (err) {
      if (err instanceof ResourceDoesNotExistError) return null
      throw err
    }
  }

  async createExperiment(name: string, opts: { artifactLocation?: string; tags?: KeyValue[] } = {}): Promise<string> {
    const r = await this.http.call<{ experiment_id: string }>('POST', 'experiments/create', {
      body: { name, artifact_location: opts.artifactLocation, tags: opts.tags },
    })
    return r.experiment_id
  }

  /** The active experiment of that name, created if missing. A deleted one is an error: restoring it is the user's call. */
  async getOrCreateExperiment(name: string, opts: { artifactLocation?: string; tags?: KeyValue[] } = {}): Promise<Experiment> {
    if (name.length > 500) throw new MlflowValidationError(`experiment name longer than 500 characters`, 'POST experiments/create', 'name')
    for (let round = 0; round < 2; round++) {
      const found = await this.getExperimentByName(name)
      if (found) {
        if (found.lifecycle_stage === 'deleted') {
          throw new MlflowValidationError(
            `MLflow experiment ${JSON.stringify(name)} (id ${found.experiment_id}) is deleted: restore it or choose another name`,
            'GET experiments/get-by-name',
            'experiment',
          )
        }
        return found
      }
      try {
        await this.createExperiment(name, opts)
      } catch (err) {
        if (!(err instanceof ResourceAlreadyExistsError)) throw err // another process created it: look it up again
      }
    }
    const again = await this.getExperimentByName(name)
    if (!again)
      throw new ResourceDoesNotExistError(
        `MLflow experiment ${JSON.stringify(name)} was created but cannot be found`,
        404,
        'RESOURCE_DOES_NOT_EXIST',
        'GET experiments/get-by-name',
      )
    return again
  }

  // Runs (§3)

  async createRun(req: { experimentId: string; runName?: string; startTime?: number; tags?: KeyValue[] }): Promise<Run> {
    const r = await this.http.call<{ run: Run }>('POST', 'runs/create', {
      body: { experiment_id: req.experimentId, run_name: req.runName, start_time: req.startTime ?? Date.now(), tags: req.tags },
    })
    return r.run
  }

  async updateRun(runId: string, req: { status?: RunStatus; endTime?: number; runName?: string }): Promise<RunInfo> {
    if (req.status !== undefined && !Object.values(RunStatus).includes(req.status)) {
      // The server ignores an unknown status with a 200 (§3.2), so it is caught here.
      throw new MlflowValidationError(
        `run status ${JSON.stringify(req.status)} is not one of ${Object.values(RunStatus).join(', ')}`,
        'POST runs/update',
        'status',
      )
    }
    const r = await this.http.call<{ run_info: RunInfo }>('POST', 'runs/update', {
      body: { run_id: runId, status: req.status, end_time: req.endTime, run_name: req.runName },
    })
    return r.run_info
  }

  async getRun(runId: string): Promise<Run> {
    return (await this.http.call<{ run: Run }>('GET', 'runs/get', { query: { run_id: runId } })).run
  }

  /** Matching runs (at most `maxResults`), page by page; the server omits `runs` and `next_page_token` when there are none. */
  async searchRuns(req: {
    experimentIds: string[]
    filter?: string
    orderBy?: string[]
    maxResults?: number
    pageSize?: number
    viewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL'
  }): Promise<Run[]> {
    const runs: Run[] = []
    const pageSize = Math.min(req.pageSize ?? req.maxResults ?? 1000, 50_000) // the server refuses more than 50000
    let pageToken: string | undefined
    do {
      const r = await this.http.call<{ runs?: Run[]; next_page_token?: string }>('POST', 'runs/search', {
        body: {
          experiment_ids: req.experimentIds,
          filter: req.filter,
          order_by: req.orderBy,
          max_results: pageSize,
          run_view_type: req.viewType,
          page_token: pageToken,
        },
      })
      runs.push(...(r.runs ?? []))
      pageToken = r.next_page_token
    } while (pageToken && (req.maxResults === undefined || runs.length < req.maxResults))
    return req.maxResults === undefined ? runs : runs.slice(0, req.maxResults)
  }

  /** Metrics, params and tags in as many log-batch requests as MLflow's limits need; returns the request count. */
  async logBatch(runId: string, batch: Partial<Batch>): Promise<number> {
    const batches = splitBatches(batch)
    for (const b of batches)
      await this.http.call('POST', 'runs/log-batch', { body: { run_id: runId, metrics: b.metrics, params: b.params, tags: b.tags } })
    return batches.length
  }

  /** Dataset inputs (§3.4): identity is (name, digest); context tags are fixed the first time a pair is logged. */
  async logInputs(runId: string, datasets: DatasetInput[]): Promise<void> {
    const ep = 'POST runs/log-inputs'
    datasets.forEach((d, i) => {
      const f = `datasets[${i}].dataset`
      for (const k of ['name', 'digest', 'source_type', 'source'] as const) {
        if (typeof d.dataset[k] !== 'string')
          throw new MlflowValidationError(`${f}.${k} is required (the server would store it empty)`, ep, `${f}.${k}`)
      }
      checkValue(d.dataset.name, LIMITS.datasetNameLength, `${f}.name`, ep)
      checkValue(d.dataset.digest, LIMITS.datasetDigestLength, `${f}.digest`, ep)
      checkValue(d.dataset.source, LIMITS.datasetSourceLength, `${f}.source`, ep)
      d.tags?.forEach((t, j) => {
        checkValue(t.key, LIMITS.inputTagKeyLength, `datasets[${i}].tags[${j}].key`, ep)
        checkValue(t.value, LIMITS.inputTagValueLength, `datasets[${i}].tags[${j}].value`, ep)
      })
    })
    await this.http.call('POST', 'runs/log-inputs', { body: { run_id: runId, datasets } })
  }

  // Model registry (§4)

  async getRegisteredModel(name: string): Promise<RegisteredModel | null> {
    try {
      return (await this.http.call<{ registered_model: RegisteredModel }>('GET', 'registered-models/get', { query: { name } })).registered_model
    } catch (err) {
      if (err instanceof ResourceDoesNotExistError) return null
      throw err
    }
  }

  async getOrCreateRegisteredModel(name: string, opts: { description?: string; tags?: KeyValue[] } = {}): Promise<RegisteredModel> {
    const found = await this.getRegisteredModel(name)
    if (found) return found
    try {
      return (
        await this.http.call<{ registered_model: RegisteredModel }>('POST', 'registered-models/create', {
          body: { name, description: opts.description, tags: opts.tags },
        })
      ).registered_model
    } catch (err) {
      if (!(err instanceof ResourceAlreadyExistsError)) throw err
      const raced = await this.getRegisteredModel(name)
      if (!raced) throw err
      return raced
    }
  }

  async createModelVersion(req: { name: string; source: string; runId?: string; tags?: KeyValue[]; description?: string }): Promise<ModelVersion> {
    const r = await this.http.call<{ model_version: ModelVersion }>('POST', 'model-versions/create', {
      body: { name: req.name, source: req.source, run_id: req.runId, tags: req.tags, description: req.description },
    })
    return r.model_version
  }

  /** Points `alias` at `version` (moving it if it pointed elsewhere). Aliases replace the deprecated stages. */
  async setAlias(name: string, alias: string, version: string): Promise<void> {
    checkAlias(alias)
    await this.http.call('POST', 'registered-models/alias', { body: { name, alias, version } })
  }

  /** The version an alias points at, or null. A missing alias is a 400 INVALID_PARAMETER_VALUE, not a 404 (§4.4). */
  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion | null> {
    checkAlias(alias)
    // Asked through the model's alias list: the 400 for a missing alias cannot be told from other 400s by its code.
    const model = await this.getRegisteredModel(name)
    if (!model?.aliases?.some((a) => a.alias === alias)) return null
    return (await this.http.call<{ model_version: ModelVersion }>('GET', 'registered-models/alias', { query: { name, alias } })).model_version
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.http.call('DELETE', 'registered-models/alias', { body: { name, alias } })
  }
}

export function checkAlias(alias: string): void {
  const ep = 'POST registered-models/alias'
  if (!alias || alias.length > LIMITS.aliasLength || !ALIAS.test(alias))
    throw new MlflowValidationError(`alias ${JSON.stringify(alias)}: 1-${LIMITS.aliasLength} letters, digits, _ or -`, ep, 'alias')
  if (alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias))
    throw new MlflowValidationError(`alias ${JSON.stringify(alias)} is reserved by MLflow ('latest' and v<N>)`, ep, 'alias')
}
