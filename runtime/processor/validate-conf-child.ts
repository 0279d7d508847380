/**
 * CHILD ENTRY. `node --import tsx runtime/processor/validate-conf-child.ts <file> <dags folder> <dag id> <conf JSON>`
 *
 * Applies the DAG's params schema to a run's conf. It lives in a child because the schema is user code (zod
 * refinements, transforms) and the scheduler and CLI never import user code.
 */
import { parseParams } from '../dag/params.ts'
import { ParamsError } from '../errors.ts'
import { reportAndExit } from './child-report.ts'
import { importInChild } from './import-dag-file.ts'

async function main(): Promise<void> {
  const [fileArg, rootArg, dagId, confJson] = process.argv.slice(2)
  if (!fileArg || !rootArg || !dagId || confJson === undefined) {
    process.stderr.write('usage: validate-conf-child.ts <file> <dags folder> <dag id> <conf JSON>\n')
    process.exit(2)
  }
  const loaded = await importInChild(fileArg, rootArg)
  if (!loaded) return
  const { file, def } = loaded
  if (def.id !== dagId) {
    const message = `${file.rel} defines dag "${def.id}", not "${dagId}"`
    return reportAndExit({ kind: 'params', result: { ok: false, field: '(dag)', message } })
  }
  try {
    reportAndExit({ kind: 'params', result: { ok: true, params: parseParams(def, JSON.parse(confJson)) } })
  } catch (err) {
    if (err instanceof ParamsError) return reportAndExit({ kind: 'params', result: { ok: false, field: err.field, message: err.message } })
    // A refinement or transform in the schema threw: the conf did not pass, and the message says why.
    reportAndExit({ kind: 'params', result: { ok: false, field: '(root)', message: `dag "${dagId}": params: ${(err as Error).message}` } })
  }
}

await main()
