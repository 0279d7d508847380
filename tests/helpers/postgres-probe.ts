import pg from 'pg'

/**
 * vitest globalSetup: when FORGE_DATABASE_URL is unset, looks once for a local Postgres on the default port
 * (user postgres, database test, then postgres) and, if one answers, sets FORGE_DATABASE_URL for the test
 * workers, so `npm test` runs the Postgres half of the suite wherever a Postgres is at hand. An empty
 * FORGE_DATABASE_URL (`FORGE_DATABASE_URL= npm test`) skips the probe and runs on PGlite only.
 */
export const LOCAL_CANDIDATES = ['postgres://postgres@127.0.0.1:5432/test', 'postgres://postgres@127.0.0.1:5432/postgres']

/** Set for the summary reporter (same process): what the probe found, when it ran. */
export const PROBE_ENV = 'FORGE_TEST_POSTGRES_PROBE'

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query('select 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

export default async function setup(): Promise<void> {
  if (process.env.FORGE_DATABASE_URL !== undefined) return
  for (const url of LOCAL_CANDIDATES) {
    if (await answers(url)) {
      process.env.FORGE_DATABASE_URL = url
      process.env[PROBE_ENV] = 'found'
      process.stdout.write(`FORGE_DATABASE_URL is unset: using the local Postgres at ${url} for the Postgres tests\n`)
      return
    }
  }
  process.env[PROBE_ENV] = 'absent'
}
