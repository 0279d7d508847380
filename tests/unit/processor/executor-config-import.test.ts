import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { processDagFolder, type ProcessDagFolderResult } from '../../../runtime/processor/process-dag-folder.ts'
import { RUNTIME } from '../../helpers/forge-cli.ts'

/** A DAG file whose task `render` runs on `executor` with `config`; `defaults` go to the DAG's defaults. */
function dagFile(id: string, task: string, defaults = '{}'): string {
  return `import { defineDag } from '${RUNTIME}'
export default defineDag({ id: '${id}', defaults: ${defaults} }, (dag) => {
  dag.task('plan', () => 1, { executor: 'local' })
  dag.task('render', () => 2, ${task})
})
`
}

const FILES: Record<string, string> = {
  'good.dag.ts': dagFile(
    'k8s_good',
    `{ executor: 'kubernetes', executorConfig: { resources: { limits: { cpu: '500m', memory: '4Gi' } }, gpus: 1 } }`,
  ),
  // Settings the local executor does not read are not Kubernetes settings: nothing to check.
  'local_ignores.dag.ts': dagFile('local_ignores', `{ executor: 'local', executorConfig: { gpu: 1 } }`),
  'unknown_field.dag.ts': dagFile('k8s_unknown_field', `{ executor: 'kubernetes', executorConfig: { gpu: 1 } }`),
  'bad_quantity.dag.ts': dagFile('k8s_bad_quantity', `{ executor: 'kubernetes', executorConfig: { resources: { limits: { cpu: 'two cores' } } } }`),
  'bad_tolerations.dag.ts': dagFile('k8s_bad_tolerations', `{ executor: 'kubernetes', executorConfig: { tolerations: { key: 'nvidia.com/gpu' } } }`),
  'bad_override.dag.ts': dagFile('k8s_bad_override', `{ executor: 'kubernetes', executorConfig: { podOverride: 'spec: {}' } }`),
  'bad_default.dag.ts': dagFile('k8s_bad_default', `{}`, `{ executor: 'kubernetes', executorConfig: { namespace: 'GPU_Jobs' } }`),
}

const EXPECTED: Array<{ file: string; line: number; message: RegExp }> = [
  {
    file: 'bad_default.dag.ts',
    line: 2,
    message:
      /^dag "k8s_bad_default" task "render" \(bad_default\.dag\.ts:4\): executorConfig\.namespace must be a DNS-1123 label \(got "GPU_Jobs"\)$/,
  },
  {
    file: 'bad_override.dag.ts',
    line: 4,
    message:
      /^dag "k8s_bad_override" task "render" \(bad_override\.dag\.ts:4\): executorConfig\.podOverride .*expected record.* \(got "spec: \{\}"\)$/,
  },
  {
    file: 'bad_quantity.dag.ts',
    line: 4,
    message:
      /^dag "k8s_bad_quantity" task "render" \(bad_quantity\.dag\.ts:4\): executorConfig\.resources\.limits\.cpu must be a Kubernetes quantity such as "500m", "4Gi" or "1" \(got "two cores"\)$/,
  },
  {
    file: 'bad_tolerations.dag.ts',
    line: 4,
    message:
      /^dag "k8s_bad_tolerations" task "render" \(bad_tolerations\.dag\.ts:4\): executorConfig\.tolerations .*expected array.* \(got \{"key":"nvidia\.com\/gpu"\}\)$/,
  },
  {
    file: 'unknown_field.dag.ts',
    line: 4,
    message: /^dag "k8s_unknown_field" task "render" \(unknown_field\.dag\.ts:4\): executorConfig has an unknown field "gpu"/,
  },
]

describe('executorConfig of Kubernetes tasks is checked when the DAG file is imported', () => {
  let result: ProcessDagFolderResult
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-k8s-config-'))
    for (const [file, source] of Object.entries(FILES)) writeFileSync(join(dir, file), source)
    result = await processDagFolder(dir, { timeoutMs: 20_000 })
  }, 60_000)

  it('loads the DAGs whose settings are right, and the ones whose tasks run elsewhere', () => {
    expect(result.dags.map((d) => d.dag_id).sort()).toEqual(['k8s_good', 'local_ignores'])
  })

  it('reports one import error per DAG file with a bad setting', () => {
    expect(result.errors.map((e) => e.file)).toEqual(EXPECTED.map((e) => e.file))
  })

  it.each(EXPECTED)('$file names the DAG, the task, the field and the value', ({ file, line, message }) => {
    const error = result.errors.find((e) => e.file === file)!
    expect(error.message).toMatch(message)
    expect(error.line).toBe(line)
  })
})
