import { resolve } from 'node:path'
import { ConfigError } from './errors.ts'
import { toMs } from './duration.ts'

/** Everything adas-forge reads from the environment, checked once and frozen. The only reader of process.env. */
export interface ForgeConfig {
  /** A postgres:// URL, or null for the embedded PGlite store under `home`. */
  databaseUrl: string | null
  home: string
  dagsFolder: string
  /** Concurrent attempts this scheduler's local executor runs. */
  parallelism: number
  /** Worker threads for `isolation: 'thread'` tasks. */
  threadWorkers: number
  heartbeatIntervalMs: number
  /** A running attempt whose heartbeat is older than this is treated as lost. */
  heartbeatTimeoutMs: number
  /** Idle poll interval; LISTEN/NOTIFY wakes the loop sooner. */
  pollIntervalMs: number
  dagImportTimeoutMs: number
  /** How often the scheduler re-processes the DAG folder. */
  dagRefreshIntervalMs: number
  /**
   * Between refreshes only changed DAG files are imported again; every this often all of them are, because a
   * changed helper module a DAG file imports does not change the DAG file's hash. 0: every refresh imports all.
   */
  dagFullRefreshIntervalMs: number
  xcomMaxBytes: number
  /** A mapped task over a longer list fails, and so does its run (Airflow stops at 1,024). */
  maxMapWidth: number
  /**
   * Let worker threads take pure chain edges themselves (runtime/scheduler/chain-edge.ts; Postgres only). Off by
   * default: it shortens a chain edge of tiny thread tasks by about a fifth, but the scheduler benchmark's fan-out
   * measured about half as fast in the same process, for reasons not found.
   */
  chainInThread: boolean
  logLevel: string
  /** Where tasks that name no executor run: 'local' (this machine) or 'kubernetes' (a Job per attempt). */
  defaultExecutor: 'local' | 'kubernetes'
  /** The Kubernetes executor's settings (used only when a task runs there). */
  kubernetes: KubernetesSettings
}

export interface KubernetesSettings {
  namespace: string
  /** The worker image each attempt's Job runs. */
  image: string | null
  /** A Secret with FORGE_DATABASE_URL, handed to runners through envFrom. */
  databaseSecret: string
  serviceAccount: string | null
  maxJobs: number
  pendingTimeoutMs: number
  ttlAfterFinishedMs: number
  /** A kubeconfig file; unset: in-cluster service account, else ~/.kube/config (client-node's loadFromDefault). */
  kubeconfig: string | null
}

function kubernetesSettings(env: Env): KubernetesSettings {
  const name = env.FORGE_K8S_NAMESPACE || 'default'
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) throw new ConfigError(`FORGE_K8S_NAMESPACE=${JSON.stringify(name)} must be a DNS-1123 label`)
  return {
    namespace: name,
    image: env.FORGE_K8S_IMAGE || null,
    databaseSecret: env.FORGE_K8S_DATABASE_SECRET || 'forge-db',
    serviceAccount: env.FORGE_K8S_SERVICE_ACCOUNT || null,
    maxJobs: int(env, 'FORGE_K8S_MAX_JOBS', 64, 1),
    pendingTimeoutMs: ms(env, 'FORGE_K8S_PENDING_TIMEOUT', '15m'),
    ttlAfterFinishedMs: ms(env, 'FORGE_K8S_TTL_AFTER_FINISHED', '1h'),
    kubeconfig: env.KUBECONFIG || null,
  }
}

function executorName(env: Env): 'local' | 'kubernetes' {
  const raw = env.FORGE_DEFAULT_EXECUTOR || 'local'
  if (raw !== 'local' && raw !== 'kubernetes') throw new ConfigError(`FORGE_DEFAULT_EXECUTOR=${JSON.stringify(raw)} must be local or kubernetes`)
  return raw
}

type Env = Record<string, string | undefined>

export const DEFAULT_MAX_MAP_WIDTH = 10_000

function int(env: Env, name: string, dflt: number, min = 0): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return dflt
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name}=${JSON.stringify(raw)} must be an integer >= ${min}`)
  return n
}

function bool(env: Env, name: string, dflt: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return dflt
  if (raw === 'true' || raw === '1') return true
  if (raw === 'false' || raw === '0') return false
  throw new ConfigError(`${name}=${JSON.stringify(raw)} must be true or false`)
}

function ms(env: Env, name: string, dflt: string): number {
  return toMs(env[name] || dflt, name)
}

export function loadConfig(env: Env = process.env, overrides: Partial<ForgeConfig> = {}): ForgeConfig {
  const databaseUrl = env.FORGE_DATABASE_URL || null
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`FORGE_DATABASE_URL must be a postgres:// URL, got ${JSON.stringify(databaseUrl)}`)
  }
  const cfg: ForgeConfig = {
    databaseUrl,
    home: resolve(env.FORGE_HOME || './.forge'),
    dagsFolder: resolve(env.FORGE_DAGS_FOLDER || './dags'),
    parallelism: int(env, 'FORGE_PARALLELISM', 16, 1),
    threadWorkers: int(env, 'FORGE_THREAD_WORKERS', 2, 1),
    heartbeatIntervalMs: ms(env, 'FORGE_HEARTBEAT_INTERVAL', '2s'),
    heartbeatTimeoutMs: ms(env, 'FORGE_HEARTBEAT_TIMEOUT', '15s'),
    pollIntervalMs: ms(env, 'FORGE_POLL_INTERVAL', '1s'),
    dagImportTimeoutMs: ms(env, 'FORGE_DAG_IMPORT_TIMEOUT', '30s'),
    dagRefreshIntervalMs: ms(env, 'FORGE_DAG_REFRESH_INTERVAL', '10s'),
    dagFullRefreshIntervalMs: ms(env, 'FORGE_DAG_FULL_REFRESH_INTERVAL', '5m'),
    xcomMaxBytes: int(env, 'FORGE_XCOM_MAX_BYTES', 1024 * 1024, 1),
    maxMapWidth: int(env, 'FORGE_MAX_MAP_WIDTH', DEFAULT_MAX_MAP_WIDTH, 1),
    chainInThread: bool(env, 'FORGE_CHAIN_IN_THREAD', true),
    logLevel: env.FORGE_LOG_LEVEL || 'info',
    defaultExecutor: executorName(env),
    kubernetes: kubernetesSettings(env),
    ...overrides,
  }
  if (cfg.heartbeatTimeoutMs <= cfg.heartbeatIntervalMs * 2) {
    throw new ConfigError(`FORGE_HEARTBEAT_TIMEOUT (${cfg.heartbeatTimeoutMs}ms) must exceed twice FORGE_HEARTBEAT_INTERVAL (${cfg.heartbeatIntervalMs}ms)`)
  }
  return Object.freeze(cfg)
}
