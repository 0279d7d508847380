import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import type { Reporter, TestModule } from 'vitest/node'
import { PROBE_ENV } from './postgres-probe.ts'

/**
 * Ends the run with the plain `N passed, N failed` line that CI tooling reads, next to vitest's own summary. When
 * no Postgres was used, a line before it names the Postgres-only tests that did not run and how to run them.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0
    let failed = 0
    let skipped = 0
    const postgresSkipped = new Map<string, number>()
    for (const mod of testModules) {
      let skippedHere = 0
      for (const test of mod.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') passed++
        else if (state === 'failed') failed++
        else {
          skipped++
          skippedHere++
        }
      }
      if (skippedHere > 0 && needsPostgres(mod.moduleId)) postgresSkipped.set(relative(process.cwd(), mod.moduleId), skippedHere)
    }
    if (!process.env.FORGE_DATABASE_URL) {
      const why =
        process.env[PROBE_ENV] === 'absent' ? 'FORGE_DATABASE_URL is unset and no Postgres answered on 127.0.0.1:5432' : 'FORGE_DATABASE_URL is empty'
      const files = [...postgresSkipped].map(([f, n]) => `${f} (${n})`).join(', ')
      process.stdout.write(
        `\nNot run: ${why}, so the Postgres half of every store, scheduler and CLI test did not run` +
          `${files ? `, nor the Postgres-only tests in ${files}` : ''}. ` +
          'Run them with FORGE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm test\n',
      )
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`)
  }
}

/** Postgres-only suites are the ones that skip themselves on `ADMIN_URL` (tests/helpers/stores.ts). */
function needsPostgres(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').includes('skipIf(!ADMIN_URL)')
  } catch {
    return false
  }
}
