/**
 * Registering a trained model: the registered model (created if missing), a version pointing at the run's
 * artifacts, and an alias moved onto it (aliases replace the stages MLflow deprecated in 2.9,
 * docs/mlflow-rest.md §4). When the alias already points at a version with the same source and run, that
 * version is returned and no new one is made.
 */
import { checkAlias, type MlflowClient } from './client.ts'
import type { KeyValue, ModelVersion } from './types.ts'

export interface RegisterModelRequest {
  name: string
  /** Model artifacts URI: runs:/<run_id>/model, mlflow-artifacts:/…, s3://… */
  source: string
  runId?: string
  alias: string
  tags?: KeyValue[]
  description?: string
}

export async function registerModelVersion(client: MlflowClient, req: RegisterModelRequest): Promise<{ version: ModelVersion; created: boolean }> {
  checkAlias(req.alias)
  await client.getOrCreateRegisteredModel(req.name)
  const current = await client.getModelVersionByAlias(req.name, req.alias)
  if (current && current.source === req.source && (current.run_id || undefined) === req.runId) return { version: current, created: false }
  const version = await client.createModelVersion({
    name: req.name,
    source: req.source,
    runId: req.runId,
    tags: req.tags,
    description: req.description,
  })
  await client.setAlias(req.name, req.alias, version.version)
  return { version: { ...version, aliases: [...(version.aliases ?? []), req.alias] }, created: true }
}
