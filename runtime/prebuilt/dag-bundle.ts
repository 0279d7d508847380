import { existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { computeCodeDigest } from '../dag/code-digest.ts'
import { fileHash, publishBuild, sha256 } from './build-cache.ts'
import { forgeBuildPlugin } from './esbuild-plugin.ts'
import { externalsHold, type ExternalRecord } from './package-picks.ts'
import { buildRecord, COMMON_BUILD, type RunnerBundle } from './runner-bundle.ts'

/** What a compiled DAG folder records beside its module. */
interface DagManifest {
  digest: string
  /** The module's file name, new for each build: a process that imported an older build under this digest gets the new one. */
  module: string
  /** Files compiled in that the code digest does not cover (a TypeScript package under node_modules), with their hashes. */
  extra: Record<string, string>
  externals: ExternalRecord
}

export interface CompiledDag {
  /** The compiled module: the DAG file and its local modules in one plain JavaScript file. */
  module: string
  /** Built by this call (false: found in the cache). */
  built: boolean
}

/**
 * The DAG file compiled against a runner bundle, for the code digest its files have now (`digest`, taken just
 * before by the runner). Kept under the bundle's folder, keyed by the digest and the file's real path (the digest
 * names files relative to the DAG's folder; the module holds absolute URLs). Never stale: the digest covers the
 * DAG file and its local modules; each extra file compiled in is checked by hash, and each package imported by
 * URL by where Node would find it (package-picks.ts), at every lookup; a build whose files changed while esbuild
 * read them is refused rather than stored under a digest it does not match.
 */
export async function compiledDag(bundle: RunnerBundle, file: string, digest: string): Promise<CompiledDag> {
  const entry = realpathSync(file)
  const dir = join(bundle.dir, 'dags', sha256(`${digest}\0${entry}`).slice(0, 32))
  const manifest = join(dir, 'manifest.json')
  const found = readManifest(manifest)
  if (found && found.digest === digest && Object.entries(found.extra).every(([p, h]) => fileHash(p) === h) && externalsHold(found.externals))
    return { module: join(dir, found.module), built: false }
  // Stale, or left half-removed (a folder in the way would keep every later build from being published); a folder
  // another runner has just published is whole, with its manifest, and stays.
  if (found || (existsSync(dir) && !existsSync(manifest))) rmSync(dir, { recursive: true, force: true })
  const esbuild = await import('esbuild')
  const name = `dag-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}.mjs`
  await publishBuild(dir, async (tmp) => {
    const record = buildRecord()
    await esbuild.build({
      ...COMMON_BUILD,
      conditions: [...COMMON_BUILD.conditions],
      mainFields: [...COMMON_BUILD.mainFields],
      entryPoints: [entry],
      outfile: join(tmp, name),
      plugins: [forgeBuildPlugin({ ...record, runtimeEntries: new Map(Object.entries(bundle.entries)) })],
    })
    const now = computeCodeDigest(entry)
    if (now.digest !== digest) throw new Error(`the DAG's code changed while it was compiled (its digest is no longer ${digest.slice(0, 12)})`)
    const covered = new Set(now.graph.files)
    const extra: Record<string, string> = {}
    for (const [path, hash] of record.loaded) {
      if (fileHash(path) !== hash) throw new Error(`${path} changed while the DAG was compiled`)
      if (!covered.has(path)) extra[path] = hash
    }
    const m: DagManifest = { digest, module: name, extra, externals: { picks: [...record.picks.values()], files: [...record.externalFiles] } }
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(m))
  })
  // Another runner may have published the same build first: use whichever is in place.
  const published = readManifest(manifest)
  if (!published || !existsSync(join(dir, published.module))) throw new Error(`the compiled DAG is missing from ${dir}`)
  return { module: join(dir, published.module), built: true }
}

function readManifest(path: string): DagManifest | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as DagManifest
  } catch {
    return null
  }
}
