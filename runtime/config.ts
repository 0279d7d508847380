import { resolve } from 'node:path'
import type { z } from 'zod'
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
  /** Local runner processes start from the prebuilt runner (plain JavaScript, runtime/prebuilt/) rather than through tsx. */
  prebuiltRunner: boolean
  heartbeatIntervalMs: number
  /** A running attempt whose heartbeat is older than this is treated as lost. */
  heartbeatTimeoutMs: number
  /** Idle poll interval; LISTEN/NOTIFY wakes the loop sooner. */
  pollIntervalMs: number
  dagImportTimeoutMs: number
  /** How often the scheduler re-processes the DAG folder. */
  dagRefreshIntervalMs: number
  /**
   * Between refreshes only DAG files whose bytes or code digest changed are imported again; every this often all
   * of them are, for what the digest does not cover (packages, data files). 0: every refresh imports all.
   */
  dagFullRefreshIntervalMs: number
  xcomMaxBytes: number
  /** A mapped task over a longer list fails, and so does its run (Airflow stops at 1,024). */
  maxMapWidth: number
  logLevel: string
  /** Extra environment names (or `PREFIX*`) task code may see, from FORGE_TASK_ENV_ALLOW (taskEnvironment). */
  taskEnvAllow: string[]
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
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63)
    throw new ConfigError(`FORGE_K8S_NAMESPACE=${JSON.stringify(name)} must be a DNS-1123 label`)
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

function list(env: Env, name: string): string[] {
  const items = (env[name] ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
  for (const x of items)
    if (!/^[A-Za-z_][A-Za-z0-9_]*\*?$/.test(x))
      throw new ConfigError(`${name}: ${JSON.stringify(x)} is not a variable name or a NAME_PREFIX* pattern`)
  return items
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
    prebuiltRunner: bool(env, 'FORGE_PREBUILT_RUNNER', true),
    heartbeatIntervalMs: ms(env, 'FORGE_HEARTBEAT_INTERVAL', '2s'),
    heartbeatTimeoutMs: ms(env, 'FORGE_HEARTBEAT_TIMEOUT', '15s'),
    pollIntervalMs: ms(env, 'FORGE_POLL_INTERVAL', '1s'),
    dagImportTimeoutMs: ms(env, 'FORGE_DAG_IMPORT_TIMEOUT', '30s'),
    dagRefreshIntervalMs: ms(env, 'FORGE_DAG_REFRESH_INTERVAL', '10s'),
    dagFullRefreshIntervalMs: ms(env, 'FORGE_DAG_FULL_REFRESH_INTERVAL', '5m'),
    xcomMaxBytes: int(env, 'FORGE_XCOM_MAX_BYTES', 1024 * 1024, 1),
    maxMapWidth: int(env, 'FORGE_MAX_MAP_WIDTH', DEFAULT_MAX_MAP_WIDTH, 1),
    logLevel: env.FORGE_LOG_LEVEL || 'info',
    taskEnvAllow: list(env, 'FORGE_TASK_ENV_ALLOW'),
    defaultExecutor: executorName(env),
    kubernetes: kubernetesSettings(env),
    ...overrides,
  }
  if (cfg.heartbeatTimeoutMs <= cfg.heartbeatIntervalMs * 2) {
    throw new ConfigError(
      `FORGE_HEARTBEAT_TIMEOUT (${cfg.heartbeatTimeoutMs}ms) must exceed twice FORGE_HEARTBEAT_INTERVAL (${cfg.heartbeatIntervalMs}ms)`,
    )
  }
  return Object.freeze(cfg)
}

/**
 * An operator's configuration slice: a zod schema of its settings and the environment variable each key is read
 * from (`{ host: 'CARLA_HOST' }`). Values arrive as strings, so numeric keys use `z.coerce.number()`.
 */
export interface ConfigSlice<S extends z.ZodType = z.ZodType> {
  schema: S
  env: Readonly<Record<string, string>>
}

const VARIABLE = /^[A-Z_][A-Z0-9_]*$/

/**
 * Reads and validates one operator's slice. Forge's own settings (`FORGE_*`) are not an operator's to read, and a
 * task's process does not see them; an error names the variable and its value.
 */
export function loadOperatorConfig<S extends z.ZodType>(operator: string, slice: ConfigSlice<S>, env: Env = process.env): z.output<S> {
  const raw: Record<string, string> = {}
  for (const [key, name] of Object.entries(slice.env)) {
    if (!VARIABLE.test(name))
      throw new ConfigError(`operator ${operator}: config key "${key}" names ${JSON.stringify(name)}, not an environment variable name (A-Z, 0-9, _)`)
    if (name.startsWith('FORGE_'))
      throw new ConfigError(`operator ${operator}: config key "${key}" reads ${name}; FORGE_* variables are adas-forge's own settings`)
    const value = env[name]
    if (value !== undefined && value !== '') raw[key] = value
  }
  const parsed = slice.schema.safeParse(raw)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]!
  const key = String(issue.path[0] ?? '')
  const name = slice.env[key]
  if (!name) throw new ConfigError(`operator ${operator}: configuration (${Object.values(slice.env).join(', ')}) ${issue.message}`)
  const shown = key in raw ? `${name}=${JSON.stringify(raw[key])}` : `${name} (unset)`
  throw new ConfigError(`${shown}: ${issue.message} (operator ${operator})`)
}

/** Plugin modules to load besides the bundled ones: `FORGE_PLUGINS`, comma-separated paths relative to the working directory. */
export function loadPluginPaths(env: Env = process.env): string[] {
  return (env.FORGE_PLUGINS ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => resolve(p))
}

/**
 * What task code may see of the environment (function tasks in the runner, shell commands): the names a program
 * needs to run, the settings of the services operators talk to, and what FORGE_TASK_ENV_ALLOW adds. Forge's own
 * settings (FORGE_DATABASE_URL with its password, every other FORGE_ name but FORGE_TASK_*) and libpq's PG* never
 * pass, whatever the allow list says.
 */
export const TASK_ENV_ALLOW: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LC_*',
  'TZ',
  'TMPDIR',
  'TERM',
  'NODE_OPTIONS',
  'AWS_*',
  'MLFLOW_*',
  'CARLA_*',
  'FORGE_TASK_*',
]

function matches(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p))
}

/** Whether task code may see `name`. */
export function taskMaySee(name: string, extra: readonly string[] = []): boolean {
  if (name.startsWith('PG') || (name.startsWith('FORGE_') && !name.startsWith('FORGE_TASK_'))) return false
  return matches(name, TASK_ENV_ALLOW) || matches(name, extra)
}

/** The environment task code gets: `env` cut down to the allow list (by default, and FORGE_TASK_ENV_ALLOW's names). */
export function taskEnvironment(env: Env = process.env, extra: readonly string[] = list(env, 'FORGE_TASK_ENV_ALLOW')): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (v !== undefined && taskMaySee(k, extra)) out[k] = v
  return out
}

/**
 * Removes from this process's environment what task code may not see. The task runner calls it after reading its
 * configuration and before it imports any user code, so the task's `process.env` (and every process it starts)
 * holds no database URL or other Forge setting.
 */
export function scrubProcessEnv(extra: readonly string[] = []): void {
  for (const k of Object.keys(process.env)) if (!taskMaySee(k, extra)) delete process.env[k]
}

/**
 * The environment of a task runner this process starts (`forge task run`), so that the runner's loadConfig reads
 * the settings this process runs with, wherever they came from: `base` (this process's environment) with the
 * settings a runner uses set from `config`, and the store's URL (none: the runner reports through this process).
 */
export function runnerEnvironment(config: ForgeConfig, databaseUrl: string | null, base: Env = process.env): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v
  delete env.FORGE_DATABASE_URL
  if (databaseUrl) env.FORGE_DATABASE_URL = databaseUrl
  Object.assign(env, {
    FORGE_HOME: config.home,
    FORGE_DAGS_FOLDER: config.dagsFolder,
    FORGE_HEARTBEAT_INTERVAL: `${config.heartbeatIntervalMs}ms`,
    FORGE_HEARTBEAT_TIMEOUT: `${config.heartbeatTimeoutMs}ms`,
    FORGE_XCOM_MAX_BYTES: String(config.xcomMaxBytes),
    FORGE_TASK_ENV_ALLOW: config.taskEnvAllow.join(','),
  })
  return env
}
