import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { Command, CommanderError } from 'commander'
import { ConfigError, ConflictError, ForgeError, NotFoundError } from '../errors.ts'
import { withContext } from './context.ts'
import { dagsList, dagsPause, dagsTest, trigger } from './dag-commands.ts'
import { datasetsList, datasetsShow } from './dataset-commands.ts'
import { initProject, type InitResult } from './init-project.ts'
import { lineageCommand } from './lineage-commands.ts'
import { mainJob } from './main-job.ts'
import { confObject, isoDate, markState, poolName, poolSlots, wholeNumber } from './options.ts'
import { pluginPaths, registerPlugins } from './plugins.ts'
import { poolsList, poolsSet } from './pool-commands.ts'
import type { MainJob } from '../plugin.ts'
import { backfill, clear, logs, runsList, tasksList, tasksMark } from './run-commands.ts'
import { runScheduler } from './run-scheduler.ts'
import { taskRun } from './task-commands.ts'

/** Exit codes of a refused command; a run that failed (`trigger --wait`, `dags test`) or a crash is 1. */
export const EXIT = { usage: 2, notFound: 3, conflict: 4 } as const

/** The `forge` command (DESIGN §5). Returns the exit code; errors print one line that names what is wrong. */
export async function main(argv: string[]): Promise<number> {
  let code = 0
  const set = (c: number) => void (code = c)
  const program = new Command('forge')
    .version(packageVersion(), '--version', 'print the adas-forge version')
    .description(
      'adas-forge: typed DAG pipelines on Postgres for synthetic driving datasets.\n\nEnvironment: FORGE_DATABASE_URL (postgres://…; unset = embedded PGlite under FORGE_HOME), FORGE_HOME (./.forge), FORGE_DAGS_FOLDER (./dags).',
    )
    .exitOverride()
    .showHelpAfterError()

  program
    .command('init [dir]')
    .description('scaffold a DAG project that depends on adas-forge in DIR (default: here); never overwrites a file')
    .action((dir: string | undefined) =>
      printInit(initProject(dir ?? '.', { version: packageVersion(), typescript: packageJson().devDependencies?.typescript ?? null })),
    )

  const db = program.command('db').description('database maintenance')
  db.command('migrate')
    .description('apply pending migrations; safe to run from several processes at once')
    .action(() => withContext(async () => console.log('database is up to date')))

  const dags = program.command('dags').description('list, test, pause and unpause DAGs')
  dags
    .command('list')
    .description('process the DAG folder (each file in its own process) and list DAGs and import errors; exit 0 even with import errors')
    .option('--json', 'print {"dags":[…],"errors":[…]}')
    .action((o) => withContext((ctx) => dagsList(ctx, o)).then(set))
  dags
    .command('test <dag_id>')
    .description('run the DAG once, now, in this process (like `airflow dags test`); a line per task attempt; exit 0 iff the run succeeded')
    .option('--conf <json>', "params for the run (a JSON object), checked against the DAG's schema", confObject)
    .action((id, o) => withContext((ctx) => dagsTest(ctx, id, o)).then(set))
  dags
    .command('pause <dag_id>')
    .description('stop scheduling the DAG: no scheduled runs, queued runs (manual ones too) wait, running runs start no new tasks')
    .action((id) => withContext((ctx) => dagsPause(ctx, id, true)).then(set))
  dags
    .command('unpause <dag_id>')
    .description('resume scheduling the DAG')
    .action((id) => withContext((ctx) => dagsPause(ctx, id, false)).then(set))

  program
    .command('trigger <dag_id>')
    .description('create a manual run and print its run id; --conf is validated before the run is created')
    .option('--conf <json>', 'params for the run (a JSON object); a key the schema does not declare is refused', confObject)
    .option('--wait', 'wait for the run and exit 0 iff it succeeded (on the embedded store this process runs the scheduler)')
    .action((id, o) => withContext((ctx) => trigger(ctx, id, o)).then(set))

  program
    .command('backfill <dag_id>')
    .description('create the runs of every schedule interval starting in [--from, --to)')
    .requiredOption('--from <iso>', 'first logical date (inclusive; UTC unless it has an offset)', isoDate('--from'))
    .requiredOption('--to <iso>', 'last logical date (exclusive)', isoDate('--to'))
    .option('--conf <json>', "params for every run (a JSON object), checked against the DAG's schema before any run is created", confObject)
    .action((id, o) => {
      if (o.from >= o.to) throw new ConfigError(`--from ${o.from.toISOString()} must be before --to ${o.to.toISOString()}`)
      return withContext((ctx) => backfill(ctx, id, o)).then(set)
    })

  program
    .command('scheduler')
    .description('run the scheduler loop with the local executor; several may run against one Postgres')
    .option('--until-idle', 'exit once no run is queued or running')
    .action((o) => withContext((ctx) => runScheduler(ctx, { untilIdle: o.untilIdle })))

  const runs = program.command('runs').description('DAG runs')
  runs
    .command('list')
    .description('runs, newest first')
    .option('--dag <dag_id>', 'only this DAG')
    .option('--json', 'print [{"dag_id","run_id","state","logical_date","start","end"}]')
    .action((o) => withContext((ctx) => runsList(ctx, o)).then(set))

  const tasks = program.command('tasks').description('task instances')
  tasks
    .command('list <run_id>')
    .description('task instances of a run')
    .option('--json', 'print [{"task_id","map_index","state","try_number","start","end","executor_id"}]')
    .action((id, o) => withContext((ctx) => tasksList(ctx, id, o)).then(set))
  tasks
    .command('mark <run_id> <task_id>')
    .description('set a task instance success or failed by hand; its downstream tasks are decided again')
    .requiredOption('--state <state>', 'success or failed', markState)
    .option('--map-index <i>', 'the mapped instance (0, 1, …); leave out for an unmapped task', wholeNumber('--map-index', -1))
    .action((r, t, o) => withContext((ctx) => tasksMark(ctx, r, t, o)).then(set))

  program
    .command('clear <run_id>')
    .description("re-run a run's tasks: they go back to none and are decided again on the DAG's latest version; a finished run is queued again")
    .option('--task <task_id>', 'only this task (default: every task of the run)')
    .option('--downstream', 'with --task: and every task downstream of it')
    .action((r, o) => {
      if (o.downstream && o.task === undefined) throw new ConfigError('--downstream needs --task: without it the whole run is cleared')
      return withContext((ctx) => clear(ctx, r, o)).then(set)
    })

  const task = program.command('task').description('one task attempt')
  task
    .command('run')
    .description(
      'the task runner: run one attempt and record its outcome, XCom and log (what executors launch); exit 0 once recorded, whatever the outcome',
    )
    .requiredOption('--attempt <id>', 'the attempt id (task_attempt.id)', wholeNumber('--attempt', 1))
    .option('--executor-id <id>', "the executor's id for this attempt (a Job name, a pid), recorded with it")
    .action((o) => taskRun(o.attempt, { executorId: o.executorId }).then(set))

  program
    .command('logs <run_id> <task_id>')
    .description("print a task's attempt logs (all attempts unless --try)")
    .option('--try <n>', 'only this try number (1, 2, …)', wholeNumber('--try', 1))
    .option('--map-index <i>', 'only this mapped instance (0, 1, …; -1 is an unmapped task)', wholeNumber('--map-index', -1))
    .option('--follow', 'keep printing new output until the attempt finishes')
    .action((r, t, o) => withContext((ctx) => logs(ctx, r, t, o)).then(set))

  const datasets = program.command('datasets').description('datasets: what tasks produce, and the DAGs scheduled on them')
  datasets
    .command('list')
    .description('every dataset with its latest version, producers and consumers')
    .option('--json', 'print [{"uri","events","latest_version","latest_at","producers":[{"dag_id","task_id"}],"consumers":[dag_id]}]')
    .action((o) => withContext((ctx) => datasetsList(ctx, o)).then(set))
  datasets
    .command('show <uri>')
    .description("a dataset's events (newest first): version, producing run and task, and the runs each started")
    .option('--json', 'print {"uri",…,"events":[{"id","version","timestamp","extra","source","triggered_runs"}]}')
    .action((uri, o) => withContext((ctx) => datasetsShow(ctx, uri, o)).then(set))

  program
    .command('lineage <kind> <ref>')
    .description(
      'what made a model version, dataset version or run: model NAME/VERSION | dataset NAME@vN | run RUN_ID, walked back through the dataset events, runs, shards and their scenario seeds',
    )
    .option('--json', 'print {"target","upstream":[…],"downstream":[…]}')
    .action((kind, ref, o) => withContext((ctx) => lineageCommand(ctx, kind, ref, o)).then(set))

  const pools = program.command('pools').description('pools cap how many task instances of any DAG use a resource at once')
  pools
    .command('list')
    .description('pools and their slots')
    .option('--json', 'print [{"name","slots","description"}]')
    .action((o) => withContext((ctx) => poolsList(ctx, o)).then(set))
  pools
    .command('set')
    .description('create or resize a pool (e.g. `forge pools set gpu 4` for four GPUs)')
    .argument('<name>', 'pool name: letters, digits, _ . - (max 64)', poolName)
    .argument('<slots>', 'how many slots (a whole number >= 0)', poolSlots)
    .option('--description <text>', 'what the pool stands for')
    .action((n, s, o) => withContext((ctx) => poolsSet(ctx, n, s, o)).then(set))

  program
    .command('standalone')
    .description('migrate and run the scheduler on the embedded store by default (the API and web UI are not built yet)')
    .action(() => withContext((ctx) => runScheduler(ctx)))

  let mainJobs: MainJob[] = []
  program
    .command('main')
    .description('the main job (`npm start`): a full dataset build on embedded defaults, ending in a summary')
    .action(() => withContext((ctx) => mainJob(ctx, mainJobs)).then(set))

  // Operators register their own commands and main job. A built-in command other than `main` needs none of
  // them, so it starts without importing them and works whatever state a plugin is in.
  const first = argv.find((a) => !a.startsWith('-'))
  if (first === undefined || first === 'main' || !program.commands.some((c) => c.name() === first)) {
    mainJobs = await registerPlugins(program, { setExitCode: set }, pluginPaths(), (line) => console.error(line))
  }

  try {
    await program.parseAsync(argv, { from: 'user' })
  } catch (err) {
    // Commander has printed what was wrong; a usage error exits 2, like every refused option or value.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2
    if (err instanceof ForgeError) {
      console.error(`forge: ${err.message}`)
      return err instanceof NotFoundError ? EXIT.notFound : err instanceof ConflictError ? EXIT.conflict : EXIT.usage
    }
    console.error(err)
    return 1
  }
  return code
}

/** The version in this installation's package.json (the CLI's own, wherever it is installed). */
function packageVersion(): string {
  return packageJson().version
}

function packageJson(): { version: string; devDependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
    devDependencies?: Record<string, string>
  }
}

function printInit(r: InitResult): void {
  for (const f of r.created) console.log(`created ${f}`)
  for (const f of r.updated) console.log(`updated ${f}`)
  const cd = relative(process.cwd(), r.dir)
  console.log(`\nnext:${cd ? ` cd ${cd} &&` : ''} npm install && npm run dags && npm test`)
  if (r.needsTypescript) console.log('to type-check the DAGs (npm run typecheck): npm install --save-dev typescript')
}
