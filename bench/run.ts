// Bench runner: `npm run bench -- NAME [args...]`
// Imports bench/NAME.ts, calls its run(args), prints the summary line and
// writes bench/results/NAME.json with machine info for later comparison.
import { readdir, mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import pg from 'pg'

type BenchModule = {
  run?: (args: string[]) => Promise<{ line: string; json: Record<string, unknown> }>
}

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))

async function load(name: string): Promise<BenchModule> {
  return (await import(pathToFileURL(path.join(BENCH_DIR, `${name}.ts`)).href)) as BenchModule
}

/** Benchmarks = top-level bench/*.ts files (other than this one) exporting run. */
async function available(): Promise<string[]> {
  const names = (await readdir(BENCH_DIR)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'run.ts').map((f) => f.slice(0, -3))
  const out: string[] = []
  for (const name of names.sort()) {
    try {
      if (typeof (await load(name)).run === 'function') out.push(name)
    } catch {
      // a helper module that fails to import on its own isn't a benchmark
    }
  }
  return out
}

/** Server version, if FORGE_DATABASE_URL points at a reachable Postgres. */
async function pgVersion(): Promise<string | null> {
  const url = process.env.FORGE_DATABASE_URL
  if (!url) return null
  const client = new pg.Client({ connectionString: url })
  try {
    await client.connect()
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version')
    return rows[0]?.server_version ?? null
  } catch {
    return null
  } finally {
    await client.end().catch(() => undefined)
  }
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv
  // Only names from the listing are imported, so NAME cannot reach outside bench/.
  const names = await available()
  if (!name || !names.includes(name)) {
    console.error(`${name ? `unknown benchmark: ${name}\n` : ''}usage: npm run bench -- NAME [--n N]`)
    console.error(`available: ${names.join(', ') || '(none)'}`)
    return 1
  }
  const mod = await load(name)
  const started = new Date()
  // Load before we start: a busy box (tests, other runs) skews timings, and
  // this is the cheapest way to spot that afterwards in the JSON.
  const loadAvgAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100)
  const { line, json } = await mod.run!(args)
  console.log(line)

  const cpus = os.cpus()
  const result = {
    name,
    date: started.toISOString(),
    args,
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? null,
      totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      node: process.version,
      postgres: await pgVersion(),
      loadAvgAtStart,
    },
    ...json,
  }
  const dir = path.join(BENCH_DIR, 'results')
  await mkdir(dir, { recursive: true })
  const file = path.join(dir, `${name}.json`)
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`)
  console.log(`wrote ${path.relative(process.cwd(), file)}`)
  return 0
}

// Set exitCode rather than calling exit() so pending I/O flushes; if a
// benchmark leaks a handle the process hangs, which the bench should surface.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    console.error(err)
    process.exitCode = 1
  },
)
