/**
 * A "cluster" for end-to-end tests of the Kubernetes executor: the in-repo API double, whose kubelet runs each
 * pod's worker container as a local process, with what the worker image would give it (docs/kubernetes.md §10):
 * a working directory holding `dags/`, `forge` on PATH, a HOME. Nothing of this process's environment reaches a
 * pod: a runner gets the image's environment and what its Job's manifest names (the database URL from a Secret).
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { CoreV1Api } from '@kubernetes/client-node'
import { FakeKubeApi } from '../doubles/k8s/api-server.ts'
import { localProcessPods, type LocalProcessPods } from '../doubles/k8s/local-process-pods.ts'
import { FORGE } from './forge-cli.ts'
import { kubeConfigFor } from './kube-client.ts'

export const NAMESPACE = 'forge'
export const WORKER_IMAGE = 'adas-forge-worker:e2e'
const TOKEN = 'test-token'

export interface LocalCluster {
  api: FakeKubeApi
  pods: LocalProcessPods
  /** The image's WORKDIR; its `dags/` is the DAGs folder of runners and schedulers alike. */
  appDir: string
  dagsDir: string
  /** A kubeconfig file for `forge scheduler` (KUBECONFIG). */
  kubeconfig: string
  core: CoreV1Api
  /** The environment of a `forge scheduler` that runs every attempt as a Job in this cluster. */
  schedulerEnv(databaseUrl: string, extra?: Record<string, string>): Record<string, string>
  close(): Promise<void>
}

export async function startLocalCluster(o: { terminationGraceMs?: number } = {}): Promise<LocalCluster> {
  const root = mkdtempSync(join(tmpdir(), 'forge-kube-'))
  const appDir = join(root, 'app')
  const dagsDir = join(appDir, 'dags')
  const bin = join(root, 'bin')
  const home = join(root, 'home')
  for (const d of [dagsDir, bin, home]) mkdirSync(d, { recursive: true })
  // As the image's Dockerfile links it: `forge` on PATH is the package's bin.
  symlinkSync(FORGE, join(bin, 'forge'))
  const imageEnv = {
    PATH: `${bin}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    NODE_ENV: 'production',
  }
  const pods = localProcessPods({ workingDir: appDir, terminationGraceMs: o.terminationGraceMs ?? 10_000 })
  const api = new FakeKubeApi({ token: TOKEN, runPod: pods.run, kubelet: { imageEnv, configRetryMs: 500 } })
  const url = await api.start()
  const kubeconfig = join(root, 'kubeconfig.json')
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node 1.4 refuses a plain-HTTP server unless TLS verification is off for it.
      clusters: [{ name: 'double', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'forge', user: { token: TOKEN } }],
      contexts: [{ name: 'double', context: { cluster: 'double', user: 'forge', namespace: NAMESPACE } }],
      'current-context': 'double',
    }),
  )
  return {
    api,
    pods,
    appDir,
    dagsDir,
    kubeconfig,
    core: kubeConfigFor(url, TOKEN).makeApiClient(CoreV1Api),
    schedulerEnv: (databaseUrl, extra = {}) => ({
      PATH: process.env.PATH ?? '',
      HOME: home,
      FORGE_DATABASE_URL: databaseUrl,
      FORGE_DAGS_FOLDER: dagsDir,
      FORGE_HOME: join(root, 'scheduler-home'),
      FORGE_DEFAULT_EXECUTOR: 'kubernetes',
      FORGE_K8S_IMAGE: WORKER_IMAGE,
      FORGE_K8S_NAMESPACE: NAMESPACE,
      FORGE_K8S_DATABASE_SECRET: 'forge-db',
      KUBECONFIG: kubeconfig,
      FORGE_HEARTBEAT_INTERVAL: '200ms',
      FORGE_HEARTBEAT_TIMEOUT: '5s',
      FORGE_POLL_INTERVAL: '100ms',
      FORGE_LOG_LEVEL: 'warn',
      ...extra,
    }),
    close: () => api.close(),
  }
}
