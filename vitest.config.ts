import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Integration tests start PGlite, child processes and servers: give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // Probes once for a local Postgres when FORGE_DATABASE_URL is unset; the reporter says what did not run without one.
    globalSetup: ['./tests/helpers/postgres-probe.ts'],
    reporters: ['default', './tests/helpers/summary-reporter.ts'],
  },
})
