import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { fileHash, publishBuild, sha256, treeDigest } from './build-cache.ts'
import { coveredByRunnerKey, forgeBuildPlugin, IMPORT_META_DEFINE, VENDOR, type ForgeBuildOptions } from './esbuild-plugin.ts'
import { PACKAGE_JSON, RUNTIME_DIR } from './package-self.ts'
import { externalsHold, type ExternalRecord } from './package-picks.ts'
import { markRunnerUsed, pruneRunnerCache } from './prune-cache.ts'

/** Bumped when what a build writes changes, so older cache folders are not reused. */
export const BUILD_FORMAT = 2

/** The runtime files a prebuilt runner loads or exports: its entry, and what DAG files and operators import. */
const ENTRIES: Record<string, string> = {
  'runner-child': join(RUNTIME_DIR, 'executors/local/runner-child.ts'),
  index: join(RUNTIME_DIR, 'index.ts'),
  operator: join(RUNTIME_DIR, 'operator.ts'),
  testing: join(RUNTIME_DIR, 'testing.ts'),
}
/**
 * Packages copied into the bundle: pure ES modules whose hundreds of files cost more to load one by one than the
 * rest of a runner's start (kysely about 240 ms of CPU, zod about 100, on a loaded machine). Each is an entry too,
 * so a DAG file importing it gets the runner's own copy. The others are imported by URL from node_modules.
 */
const INLINE = ['kysely', 'zod']

/** A prebuilt runner: the runtime bundled into plain JavaScript (manifest.json in its folder). */
export interface RunnerBundle {
  dir: string
  /** The runner process's entry module. */
  child: string
  manifest: string
  /** Each exported runtime source file and inlined package's entry file, by path, with the URL of its output module. */
  entries: Record<string, string>
}

interface RunnerManifest {
  key: string
  /** Output file of each entry, by source path relative to runtime/. */
  entries: Record<string, string>
  /** Output file of each inlined package's entry, by the file its name resolved to. */
  vendor: Record<string, string>
  /** The inlined packages' files, with their hashes: the key does not cover them, so they are checked at each start. */
  inlined: Record<string, string>
  externals: ExternalRecord
}

/** The options every prebuilt build shares: ES modules for this Node, packages resolved as Node's `import` does. */
export const COMMON_BUILD = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  mainFields: ['main'],
  conditions: [],
  define: IMPORT_META_DEFINE,
  sourcemap: 'linked',
  logLevel: 'silent',
} as const

/** Empty collections for a build's plugin to fill. */
export function buildRecord(): Omit<ForgeBuildOptions, 'runtimeEntries'> {
  return { loaded: new Map(), picks: new Map(), externalFiles: new Set() }
}

/**
 * The prebuilt runner for the runtime's sources as they are now, built if its folder does not exist yet. Its key
 * covers every file under runtime/, package.json, esbuild's and Node's versions and the build format, so an edit
 * of the runtime gives a new folder (never a stale runner); the build refuses to hold any file the key does not
 * cover; and a folder whose packages Node would no longer find where the build did (a reinstall) is built again.
 */
export async function ensureRunnerBundle(cacheRoot: string): Promise<RunnerBundle> {
  const esbuild = await import('esbuild')
  const keyNow = () =>
    sha256([BUILD_FORMAT, esbuild.version, process.versions.node, treeDigest(RUNTIME_DIR), readFileSync(PACKAGE_JSON, 'utf8')].join('\0'))
  const key = keyNow()
  const dir = join(cacheRoot, `runner-${key.slice(0, 20)}`)
  const manifest = join(dir, 'manifest.json')
  const found = readManifest(manifest)
  if (!found || !externalsHold(found.externals) || !Object.entries(found.inlined).every(([p, h]) => fileHash(p) === h)) {
    // A stale folder, or one without its manifest (removed halfway), would keep the build from being published;
    // one published meanwhile by another process has its manifest and stays.
    if (found || (existsSync(dir) && !existsSync(manifest))) rmSync(dir, { recursive: true, force: true })
    await publishBuild(dir, async (tmp) => {
      const record = buildRecord()
      const inline = new Map<string, string | null>(INLINE.map((name) => [name, null]))
      await esbuild.build({
        ...COMMON_BUILD,
        conditions: [...COMMON_BUILD.conditions],
        mainFields: [...COMMON_BUILD.mainFields],
        entryPoints: { ...ENTRIES, ...Object.fromEntries(INLINE.map((name) => [`vendor/${name}`, `${VENDOR}${name}`])) },
        outdir: tmp,
        outExtension: { '.js': '.mjs' },
        chunkNames: 'chunks/[name]-[hash]',
        splitting: true,
        plugins: [forgeBuildPlugin({ ...record, inline })],
      })
      const inlineRoots = [...record.picks.values()].filter((p) => inline.has(p.name)).map((p) => p.real + sep)
      const inlined: Record<string, string> = {}
      for (const [path, hash] of record.loaded) {
        if (inlineRoots.some((root) => path.startsWith(root))) inlined[path] = hash
        else if (!coveredByRunnerKey(path)) throw new Error(`the runner bundle would hold ${path}, which its key does not cover`)
      }
      const vendor: Record<string, string> = {}
      for (const [name, file] of inline) {
        if (!file) throw new Error(`the runtime never imports ${name}, which the runner bundle is to hold`)
        vendor[file] = `vendor/${name}.mjs`
      }
      // An edit during the build would store new sources under the old key.
      if (keyNow() !== key) throw new Error('the runtime sources changed while the runner was built')
      const m: RunnerManifest = {
        key,
        entries: Object.fromEntries(Object.entries(ENTRIES).map(([n, src]) => [relative(RUNTIME_DIR, src), `${n}.mjs`])),
        vendor,
        inlined,
        externals: { picks: [...record.picks.values()], files: [...record.externalFiles] },
      }
      writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(m))
    })
  }
  markRunnerUsed(dir)
  pruneRunnerCache(cacheRoot, dir)
  return readRunnerBundle(manifest)
}

/** The bundle a manifest describes (read by the runner process too, to compile DAG files against it). */
export function readRunnerBundle(manifest: string): RunnerBundle {
  const dir = join(manifest, '..')
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as RunnerManifest
  const entries = Object.fromEntries([
    ...Object.entries(m.entries).map(([src, out]) => [join(RUNTIME_DIR, src), pathToFileURL(join(dir, out)).href]),
    ...Object.entries(m.vendor).map(([file, out]) => [file, pathToFileURL(join(dir, out)).href]),
  ])
  return { dir, child: join(dir, 'runner-child.mjs'), manifest, entries }
}

function readManifest(path: string): RunnerManifest | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunnerManifest
  } catch {
    return null
  }
}
