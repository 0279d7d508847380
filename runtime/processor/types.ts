import type { SerializedDag } from '../dag/serialize.ts'

/**
 * An import error as people and the `import_error` table see it (DESIGN §1, §5 `forge dags list --json`).
 * `file` is relative to the DAGs folder; `line` is in that file, or null when no line can be known honestly
 * (a timeout, a crash, an error raised in another module).
 */
export interface ImportErrorInfo {
  file: string
  line: number | null
  message: string
}

export type ProcessDagFileResult = { ok: true; dag: SerializedDag } | { ok: false; error: ImportErrorInfo }

export type ValidateConfResult = { ok: true; params: unknown } | { ok: false; field: string; message: string }

/** What a child process sends back, exactly once, over the IPC channel. */
export type ChildMessage =
  { kind: 'dag'; dag: SerializedDag } | { kind: 'params'; result: ValidateConfResult } | { kind: 'error'; error: ImportErrorInfo }

/** Parent to pool child: import one DAG file. `id` pairs the reply with the request. */
export interface PoolRequest {
  type: 'load'
  id: number
  file: string
  root: string
}

/**
 * Pool child to parent: the file's result. `retire` says why the child must not take another file (it changed
 * global state, or left a handle that could act later), or is null.
 */
export interface PoolReply {
  type: 'result'
  id: number
  message: ChildMessage
  retire: string | null
}
