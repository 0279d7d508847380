import { pathToFileURL } from 'node:url'
import { isDagDefinition, type DagDefinition } from '../dag/define-dag.ts'
import { DagDefinitionError } from '../errors.ts'
import { exitWithParent, reportAndExit } from './child-report.ts'
import { dagFileRef, type DagFileRef } from './dag-file-ref.ts'
import { describeError } from './describe-error.ts'
import { lineMatching } from './source-lines.ts'

/**
 * Child side: imports a DAG file and returns its default export, or throws an error `describeError` can place.
 * Only child entries call this; the scheduler and CLI never import user code (Airflow jobs/adr/0001).
 */
export async function importDagFile(file: DagFileRef): Promise<DagDefinition> {
  const mod = (await import(pathToFileURL(file.abs).href)) as Record<string, unknown>
  let exported = mod.default
  // A .ts file outside a `"type": "module"` package is compiled to CommonJS, where the namespace's default is
  // `module.exports` and the DAG sits one level down.
  if (!isDagDefinition(exported) && isDagDefinition((exported as { default?: unknown } | null)?.default)) {
    exported = (exported as { default: unknown }).default
  }
  if (isDagDefinition(exported)) return exported
  const hint = 'export default defineDag(...)'
  if (exported === undefined) throw new DagDefinitionError(`file has no default export; ${hint}`)
  const line = file.source ? (lineMatching(file.source, /\bexport\s+default\b/) ?? undefined) : undefined
  throw new DagDefinitionError(`default export is not a DAG (got ${describeValue(exported)}); ${hint}`, { line })
}

/**
 * Errors thrown outside the import's promise (a timer callback, an unawaited rejection) would otherwise kill the
 * child with only a stack on stderr; reporting them keeps the line.
 */
export function reportCrashes(file: DagFileRef): void {
  const report = (err: unknown) => reportAndExit({ kind: 'error', error: describeError(err, file, 'import') })
  process.on('uncaughtException', report)
  process.on('unhandledRejection', report)
}

function describeValue(v: unknown): string {
  if (v === null) return 'null'
  if (typeof v === 'function') return 'a function'
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : 'an object'
  return `a ${typeof v}`
}

/**
 * The start every child entry shares: report crashes, die with the parent, import the file. Returns the DAG, or
 * null after reporting the import error (the process is then on its way out).
 */
export async function importInChild(fileArg: string, rootArg: string | undefined): Promise<{ file: DagFileRef; def: DagDefinition } | null> {
  const file = dagFileRef(fileArg, rootArg)
  reportCrashes(file)
  exitWithParent()
  try {
    return { file, def: await importDagFile(file) }
  } catch (err) {
    reportAndExit({ kind: 'error', error: describeError(err, file, 'import') })
    return null
  }
}
