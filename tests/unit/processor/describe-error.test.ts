import { describe, expect, it } from 'vitest'
import { DagDefinitionError } from '../../../runtime/errors.ts'
import { describeError } from '../../../runtime/processor/describe-error.ts'
import type { DagFileRef } from '../../../runtime/processor/dag-file-ref.ts'

const file: DagFileRef = { abs: '/dags/etl.dag.ts', rel: 'etl.dag.ts', root: '/dags', source: null }

/** An error with exactly this stack below its message line. */
function thrownWith(frames: string[]): Error {
  const err = new DagDefinitionError('file has no default export')
  err.stack = [`DagDefinitionError: ${err.message}`, ...frames.map((f) => `    at ${f}`)].join('\n')
  return err
}

describe('describeError names where an error without a line in the DAG file came from', () => {
  it('points at a helper module the DAG file imports', () => {
    const e = describeError(thrownWith(['boom (/dags/lib/helper.ts:7:3)', 'async /dags/etl.dag.ts:2:1']), file, 'import')
    expect(e).toEqual({ file: 'etl.dag.ts', line: 2, message: 'file has no default export' })
    const elsewhere = describeError(thrownWith(['boom (/dags/lib/helper.ts:7:3)']), file, 'import')
    expect(elsewhere).toEqual({ file: 'etl.dag.ts', line: null, message: 'file has no default export (at lib/helper.ts:7)' })
  })

  it("never points at Node's own internals (node:internal/…), which are nobody's file", () => {
    const e = describeError(
      thrownWith([
        'importDagFile (/srv/forge/runtime/processor/import-dag-file.ts:23:9)',
        'process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      ]),
      file,
      'import',
    )
    expect(e).toEqual({ file: 'etl.dag.ts', line: null, message: 'file has no default export' })
  })
})

describe('describeError explains an ES-module-only package required from a CommonJS DAG file', () => {
  const notExported = (frames: string[]) => {
    const err = Object.assign(new Error('No "exports" main defined in /app/node_modules/unicorn-magic/package.json'), {
      code: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    })
    err.stack = [`Error [ERR_PACKAGE_PATH_NOT_EXPORTED]: ${err.message}`, ...frames.map((f) => `    at ${f}`)].join('\n')
    return err
  }

  it('says the file loads as CommonJS and what to add, when Node was requiring', () => {
    const e = describeError(notExported(['Module._findPath (node:internal/modules/cjs/loader:711:31)']), file, 'import')
    expect(e.message).toBe(
      'Error: No "exports" main defined in /app/node_modules/unicorn-magic/package.json; the DAG file loads as CommonJS (no package.json with "type": "module" above it), which cannot load ES-module-only packages: add { "type": "module" } to the DAGs folder\'s package.json (`forge init` does)',
    )
  })

  it('adds nothing when the same error comes from an ES module import', () => {
    const e = describeError(notExported(['packageExportsResolve (node:internal/modules/esm/resolve:613:13)']), file, 'import')
    expect(e.message).toBe('Error: No "exports" main defined in /app/node_modules/unicorn-magic/package.json')
  })
})
