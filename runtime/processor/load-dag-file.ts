/**
 * CHILD ENTRY. `node --import tsx runtime/processor/load-dag-file.ts <file> [dags folder]`
 *
 * Imports one DAG file, serializes its default export and sends one ChildMessage to the parent over IPC (or
 * prints it when run by hand), then exits even if the file left handles open. One process per file means a file
 * that throws, hangs or corrupts globals cannot affect any other DAG.
 */
import { serializeDag } from '../dag/serialize.ts'
import { reportAndExit } from './child-report.ts'
import { describeError } from './describe-error.ts'
import { importInChild } from './import-dag-file.ts'

async function main(): Promise<void> {
  const [fileArg, rootArg] = process.argv.slice(2)
  if (!fileArg) {
    process.stderr.write('usage: load-dag-file.ts <file> [dags folder]\n')
    process.exit(2)
  }
  const loaded = await importInChild(fileArg, rootArg)
  if (!loaded) return
  const { file, def } = loaded
  try {
    reportAndExit({ kind: 'dag', dag: serializeDag(def, file.rel) })
  } catch (err) {
    reportAndExit({ kind: 'error', error: describeError(err, file, 'serialize') })
  }
}

await main()
