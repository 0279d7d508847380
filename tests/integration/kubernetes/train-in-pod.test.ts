/**
 * Training as a Kubernetes Job: a DAG whose one `pullAndTrain` task runs through `forge scheduler` with the
 * Kubernetes executor; the API double's kubelet runs the pod's `forge task run` as a local process, which pulls the
 * dataset version onto the pod's own folder (every digest verified) and runs the example trainer there.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { versionDataset } from '../../../operators/dvc/version-dataset.ts'
import { loadConfig } from '../../../runtime/config.ts'
import { refreshDags } from '../../../runtime/scheduler/refresh-dags.ts'
import { openPostgres, type Store } from '../../../runtime/store/connect.ts'
import { migrate } from '../../../runtime/store/migrate.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { RUNTIME, spawnForge } from '../../helpers/forge-cli.ts'
import { NAMESPACE, startLocalCluster, type LocalCluster } from '../../helpers/kube-local-cluster.ts'
import { ADMIN_URL, createTestDatabase } from '../../helpers/stores.ts'

const TRAINING = fileURLToPath(new URL('../../../operators/training/index.ts', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'forge-train-pod-'))

const dagSource = `
import { defineDag } from '${RUNTIME}'
import { exampleTrainerCommand, pullAndTrain } from '${TRAINING}'
export default defineDag({ id: 'train_in_pod', defaults: { retries: 0 } }, (dag) => {
  dag.task('train', pullAndTrain({
    pull: { repo: '${join(work, 'registry')}', tag: 'carla@v1', dest: '${join(work, 'pod-disk', 'carla')}' },
    command: exampleTrainerCommand(),
    outputDir: '${join(work, 'pod-disk', 'model')}',
    model: { name: 'carla-prior' },
  }), { executor: 'kubernetes' })
})
`

describe.skipIf(!ADMIN_URL)('training as a Kubernetes Job: pull and train in one pod', () => {
  let store: Store
  let drop: () => Promise<void>
  let url: string
  let cluster: LocalCluster

  beforeAll(async () => {
    const shard = join(work, 'out', 'shard-0', 'labels')
    mkdirSync(shard, { recursive: true })
    const images = [{ id: 1, file_name: 'frames/rgb/0.png', width: 800, height: 600, frame: 0 }]
    const annotations = [{ id: 1, image_id: 1, category_id: 1, bbox: [10, 10, 100, 50], area: 5000, iscrowd: 0, visibility: 1 }]
    writeFileSync(join(shard, 'coco.json'), JSON.stringify({ info: {}, images, annotations, categories: [{ id: 1, name: 'Car' }] }))
    await versionDataset(
      { repo: join(work, 'registry'), path: 'carla', source: join(work, 'out'), dataset: 'carla', remote: { url: join(work, 'store') } },
      { dvcAvailable: async () => false },
    )
    ;({ url, drop } = await createTestDatabase())
    store = await openPostgres(url)
    await migrate(store.db)
    cluster = await startLocalCluster()
    // An ES module folder, as `forge init` makes it: the training operator's execa is ESM-only.
    writeFileSync(join(cluster.dagsDir, 'package.json'), '{ "type": "module" }\n')
    writeFileSync(join(cluster.dagsDir, 'train.dag.ts'), dagSource)
    const { errors } = await refreshDags(store.db, loadConfig({ FORGE_DATABASE_URL: url, FORGE_DAGS_FOLDER: cluster.dagsDir }))
    expect(errors).toEqual([])
    await cluster.core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: { metadata: { name: 'forge-db' }, stringData: { FORGE_DATABASE_URL: url } },
    })
  }, 120_000)
  afterAll(async () => {
    await cluster?.close()
    await store?.close()
    await drop?.()
  })

  it('runs the one task as one Job, whose pod pulls the version and trains on it', async () => {
    const run = await triggerRun(store.db, 'train_in_pod', {})
    const s = spawnForge(cluster.schedulerEnv(url, { FORGE_DEFAULT_EXECUTOR: 'local' }), 'scheduler', '--until-idle')
    expect(await s.exited, s.stderr()).toBe(0)
    const ti = await store.db
      .selectFrom('task_instance')
      .select(['state', 'reason', 'executor_id'])
      .where('dag_run_id', '=', run.id)
      .executeTakeFirstOrThrow()
    expect(ti, JSON.stringify(ti)).toMatchObject({ state: 'success' })
    expect(ti.executor_id).toMatch(new RegExp(`^k8s:${NAMESPACE}/train-in-pod-train-`))
    const xcom = await store.db.selectFrom('xcom').select('value').where('dag_run_id', '=', run.id).executeTakeFirstOrThrow()
    expect(xcom.value).toMatchObject({ dataset: { tag: 'carla@v1' }, model: { name: 'carla-prior' } })
    // Pulled onto the pod's own folder (here a local one: the kubelet runs the pod as a local process).
    expect(JSON.parse(readFileSync(join(work, 'pod-disk', 'carla', 'shard-0', 'labels', 'coco.json'), 'utf8')).annotations).toHaveLength(1)
    const event = await store.db
      .selectFrom('dataset_event as e')
      .innerJoin('dataset as d', 'd.id', 'e.dataset_id')
      .select(['d.uri', 'e.extra'])
      .executeTakeFirstOrThrow()
    expect(event).toMatchObject({ uri: 'model://carla-prior', extra: { dataset: 'carla@v1' } })
  }, 240_000)
})
