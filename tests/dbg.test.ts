import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { it } from 'vitest'
import { loadConfig } from '../runtime/config.ts'
import { refreshDags } from '../runtime/scheduler/refresh-dags.ts'
import { openPostgres } from '../runtime/store/connect.ts'
import { migrate } from '../runtime/store/migrate.ts'
import { triggerRun } from '../runtime/store/trigger.ts'
import { RUNTIME, spawnForge } from './helpers/forge-cli.ts'
import { NAMESPACE, startLocalCluster } from './helpers/kube-local-cluster.ts'
import { createTestDatabase } from './helpers/stores.ts'
it('dbg', async () => {
  const { url, drop } = await createTestDatabase()
  const store = await openPostgres(url)
  await migrate(store.db)
  const cluster = await startLocalCluster()
  writeFileSync(join(cluster.dagsDir, 'p.dag.ts'), `import { defineDag } from '${RUNTIME}'\nexport default defineDag({ id: 'dbg' }, (dag) => { dag.task('a', () => { console.log('hello from a'); return 1 }) })\n`)
  const { errors } = await refreshDags(store.db, loadConfig({ FORGE_DATABASE_URL: url, FORGE_DAGS_FOLDER: cluster.dagsDir }))
  console.log('errors', errors)
  await cluster.core.createNamespacedSecret({ namespace: NAMESPACE, body: { metadata: { name: 'forge-db' }, stringData: { FORGE_DATABASE_URL: url } } })
  const run = await triggerRun(store.db, 'dbg', {})
  const s = spawnForge(cluster.schedulerEnv(url, { FORGE_LOG_LEVEL: 'info' }), 'scheduler', '--until-idle')
  await new Promise((r) => setTimeout(r, 25000))
  console.log('STDERR', s.stderr().slice(-3000))
  console.log('REQ', cluster.api.requests.map((r) => `${r.method} ${r.path}`).join('\n'))
  for (const p of cluster.api.store.list('pods', NAMESPACE)) console.log('POD', p.metadata.name, JSON.stringify(p.status), cluster.api.kubelet.logs.text(p.metadata.name).slice(-2000))
  console.log('TI', JSON.stringify(await store.db.selectFrom('task_instance').selectAll().execute()))
  s.child.kill('SIGKILL')
  await cluster.close(); await store.close(); await drop()
}, 60000)
