import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { processDagFolder, type ProcessDagFolderResult } from '../../../runtime/processor/process-dag-folder.ts'

const BROKEN = fileURLToPath(new URL('../../fixtures/dags-broken/', import.meta.url))

/**
 * One file per way a DAG file can fail, processed together: each must become an import error with its file, the
 * exact line where one is known, and a message that says what to fix; the one good file must still load.
 * 2.5s per file: the two hanging files cost that much (in parallel), with room for a loaded CI machine.
 */
const EXPECTED: Array<{ file: string; line: number | null; message: RegExp }> = [
  { file: 'bad_cron.dag.ts', line: 6, message: /schedule "61 \* \* \* \*" is not a cron expression/ },
  { file: 'bad_retry_delay.dag.ts', line: 7, message: /task "b" retryDelay: "5 minutes" is not a duration/ },
  { file: 'bad_timezone.dag.ts', line: 7, message: /timezone "Europe\/Munich" is not an IANA zone/ },
  { file: 'broken_syntax.dag.ts', line: 5, message: /^syntax error at broken_syntax\.dag\.ts:5:\d+: Expected "\)" but found "dag"/ },
  { file: 'busy_loop.dag.ts', line: null, message: /did not finish importing within 10\.0s \(killed\)/ },
  { file: 'cycle.dag.ts', line: 4, message: /has a cycle: extract -> transform -> load -> extract \(cycle\.dag\.ts:4\)/ },
  { file: 'default_not_dag.dag.ts', line: 7, message: /default export is not a DAG \(got a function\); export default defineDag\(\.\.\.\)/ },
  {
    file: 'duplicate_task.dag.ts',
    line: 6,
    message: /duplicate task id "fetch" \(duplicate_task\.dag\.ts:6\): first declared at duplicate_task\.dag\.ts:4/,
  },
  { file: 'exits_at_import.dag.ts', line: null, message: /^importing the file exited with code 3 before reporting a result:\ngiving up early$/ },
  { file: 'negative_default_retries.dag.ts', line: 6, message: /option "retries" Too small/ },
  { file: 'negative_retries.dag.ts', line: 5, message: /task "flaky" \(negative_retries\.dag\.ts:5\): option "retries"/ },
  { file: 'no_default_export.dag.ts', line: null, message: /^file has no default export; export default defineDag\(\.\.\.\)$/ },
  { file: 'pending_await.dag.ts', line: null, message: /did not finish importing within 10\.0s \(killed\)/ },
  { file: 'throws_at_import.dag.ts', line: 4, message: /^Error: FORGE_TEST_BUCKET_THAT_IS_NEVER_SET is not set$/ },
  { file: 'throws_in_helper.dag.ts', line: null, message: /^SyntaxError: .*JSON.* \(at lib\/explode\.ts:2\)$/ },
  { file: 'unknown_upstream.dag.ts', line: 5, message: /task "parse" \(unknown_upstream\.dag\.ts:5\) depends on unknown task "fetsh"/ },
  { file: 'unsettled_await.dag.ts', line: null, message: /top-level await never settled/ },
  { file: 'zz_duplicate_dag_id.dag.ts', line: 4, message: /dag id "still_works" is already defined in good\.dag\.ts/ },
]

describe('processDagFolder on broken DAG files', () => {
  let result: ProcessDagFolderResult
  beforeAll(async () => {
    // Two files hang on purpose and cost the whole timeout; the others need it to be generous on a loaded 2-core
    // CI box (at 2.5s a busy full-suite run saw good files reported as timeouts).
    result = await processDagFolder(BROKEN, { timeoutMs: 10_000 })
  })

  it('still loads the good file, and only it', () => {
    expect(result.dags.map((d) => [d.dag_id, d.fileloc, d.tasks.map((t) => t.task_id)])).toEqual([['still_works', 'good.dag.ts', ['a', 'b']]])
  })

  it('reports exactly one error per broken file, sorted by file', () => {
    expect(result.errors.map((e) => e.file)).toEqual(EXPECTED.map((e) => e.file))
  })

  it.each(EXPECTED)('$file: line $line', ({ file, line, message }) => {
    const error = result.errors.find((e) => e.file === file)
    expect(error, `no import error for ${file}`).toBeDefined()
    expect(error!.line).toBe(line)
    expect(error!.message).toMatch(message)
    // Messages name files the way `forge dags list` does, never by the machine's absolute path.
    expect(error!.message).not.toContain(BROKEN)
  })
})
