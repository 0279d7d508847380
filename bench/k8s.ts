// `npm run bench -- k8s [--jobs N] [--latency MS]`
// N single-attempt no-op Jobs through the Kubernetes executor against the in-repo API double, whose fake kubelet
// finishes each pod at once and whose watch streams are delayed by MS (default 20 ms). Reports the create rate,
// how long after a pod's worker ended the executor reported the attempt finished (p50, p99), and the API calls
// per Job other than the shared lists and watches. No peer can run here: Argo Workflows' published figure is about
// 2,100 workflows a minute before the API server throttles it.
import { KubernetesExecutor } from '../runtime/executors/kubernetes/kubernetes-executor.ts'
import type { AttemptSpec } from '../runtime/executors/executor.ts'
import { FakeKubeApi } from '../tests/doubles/k8s/api-server.ts'
import { kubeAttempt } from '../tests/helpers/kube-attempt.ts'
import { kubeConfigFor } from '../tests/helpers/kube-client.ts'
import { percentile } from './peers/common.ts'

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name)
  if (i < 0) return fallback
  const v = Number(args[i + 1])
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} needs a non-negative number`)
  return v
}

function spec(i: number): AttemptSpec {
  return kubeAttempt(i, { dagId: 'bench_k8s', runId: 'manual__bench', taskId: 'noop' })
}

export async function run(args: string[]): Promise<{ line: string; json: Record<string, unknown> }> {
  const jobs = flag(args, '--jobs', 1000)
  const latencyMs = flag(args, '--latency', 20)
  const api = new FakeKubeApi({ runPod: async () => 0, watchLatencyMs: latencyMs })
  await api.start()
  // The kubelet resolves each worker's envFrom: the database Secret must exist, as in a cluster.
  api.store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'forge-db', namespace: 'bench' }, data: {} })
  const defaults = { namespace: 'bench', image: 'forge:bench', runnerCommand: ['forge'], databaseSecret: 'forge-db', ttlSecondsAfterFinished: 60 }
  const ex = new KubernetesExecutor({ kc: kubeConfigFor(api.url), defaults, maxJobs: jobs, pendingTimeoutMs: 600_000, appendLog: async () => {} })
  const seen = new Map<string, number>()
  let resolveAll!: () => void
  const all = new Promise<void>((r) => (resolveAll = r))
  ex.onEvent((e) => {
    if (e.type !== 'finished') return
    seen.set(e.key, Date.now())
    if (seen.size === jobs) resolveAll()
  })
  try {
    const t0 = performance.now()
    // Launched as a scheduler launches a claimed batch: concurrently, bounded.
    const batch = 32
    for (let i = 1; i <= jobs; i += batch) await Promise.all(Array.from({ length: Math.min(batch, jobs - i + 1) }, (_, k) => ex.launch(spec(i + k))))
    const createSeconds = (performance.now() - t0) / 1000
    await all
    // The TTL patch follows the finished event; let the last ones land before counting calls.
    await new Promise((r) => setTimeout(r, 500))
    const lag: number[] = []
    for (let i = 1; i <= jobs; i++) {
      const pod = api.store.list('pods', 'bench').find((p) => p.metadata.labels?.['adas-forge.io/attempt-id'] === String(i))
      const finished = pod ? api.kubelet.finishedAt.get(pod.metadata.name) : undefined
      if (finished !== undefined) lag.push(seen.get(`${i}:1`)! - finished)
    }
    const perJob =
      api.requests.filter((r) => r.query.get('watch') !== 'true' && !(r.method === 'GET' && /\/(jobs|pods|events)$/.test(r.path))).length / jobs
    const createRate = jobs / createSeconds
    const p50 = percentile(lag, 50)
    const p99 = percentile(lag, 99)
    const line = `k8s: ${jobs} jobs, create ${createRate.toFixed(0)}/s, completion seen p50 ${p50.toFixed(1)} ms after the pod finished (p99 ${p99.toFixed(1)} ms, watch latency ${latencyMs} ms), API calls per job ${perJob.toFixed(2)}`
    return {
      line,
      json: {
        jobs,
        watch_latency_ms: latencyMs,
        create_per_s: createRate,
        completion_lag_p50_ms: p50,
        completion_lag_p99_ms: p99,
        api_calls_per_job: perJob,
        lags_measured: lag.length,
        targets: { api_calls_per_job_max: 3, completion_lag_p50_ms_max: 100 },
      },
    }
  } finally {
    await ex.close()
    await api.close()
  }
}
