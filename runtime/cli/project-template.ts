/**
 * The files `forge init` writes: a DAG project that depends on adas-forge. The tsconfig matches the one the
 * package's own sources are checked with, because `tsc` checks those sources too (they ship as TypeScript).
 */

/** The scripts a DAG project gets; `npm test` runs the example DAG once. */
export const PROJECT_SCRIPTS: Record<string, string> = {
  dags: 'forge dags list',
  test: 'forge dags test example',
  scheduler: 'forge scheduler',
  typecheck: 'tsc --noEmit -p .',
}

export const GITIGNORE_LINES = ['.forge/', 'node_modules/']

export function projectPackageJson(name: string, version: string, typescript: string | null): Record<string, unknown> {
  return {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: PROJECT_SCRIPTS,
    dependencies: { 'adas-forge': `^${version}` },
    ...(typescript ? { devDependencies: { typescript } } : {}),
  }
}

export const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    verbatimModuleSyntax: true,
    skipLibCheck: true,
    esModuleInterop: true,
    resolveJsonModule: true,
    types: ['node'],
    lib: ['ES2023'],
  },
  include: ['dags'],
}

// DAG files are ES modules whatever the project's own "type" says (npm init writes "commonjs").
export const DAGS_PACKAGE_JSON = { type: 'module' }

export const EXAMPLE_DAG = `import { defineDag, z } from 'adas-forge'

/**
 * An example DAG: params with defaults, a task in a worker thread, a task in its own process that takes the first
 * one's result as a typed input, and a shell task. Run it once with \`npm test\` (\`forge dags test example\`).
 * Operators come by subpath, e.g. \`import { carlaGenerate } from 'adas-forge/operators/carla'\`.
 */
export default defineDag(
  {
    id: 'example',
    description: 'Count, sum and report',
    schedule: '@daily',
    params: z.object({ rows: z.number().int().min(1).default(5) }),
    defaults: { retries: 1, retryDelay: '1s' },
  },
  (dag) => {
    const count = dag.task('count', ({ params }) => ({ values: Array.from({ length: params.rows }, (_, i) => i + 1) }), { isolation: 'thread' })
    const sum = dag.task('sum', { inputs: { values: count.out.values }, run: ({ inputs }) => ({ total: inputs.values.reduce((a, b) => a + b, 0) }) })
    dag.shell('report', 'echo "total=$FORGE_INPUT_TOTAL"', { inputs: { total: sum.out.total } })
  },
)
`
