import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { dirname, extname, join, relative, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { ImportKind, Loader, OnResolveResult, Plugin, PluginBuild } from 'esbuild'
import { PACKAGE_JSON, RUNTIME_DIR, resolveSelf } from './package-self.ts'
import { computedDynamicImport } from './dynamic-imports.ts'
import { pickPackage, type PackagePick } from './package-picks.ts'

export interface ForgeBuildOptions {
  /**
   * A DAG's build: the runtime files the runner bundle exports, each with its output's URL, which the DAG's
   * imports of them become (one runtime per process). Unset: the build of the runner bundle itself.
   */
  runtimeEntries?: Map<string, string>
  /** Filled with every file the build compiled and the sha256 of the bytes it read. */
  loaded: Map<string, string>
  /** Filled with the packages bare specifiers named (package-picks.ts), and the files imported from them by URL. */
  picks: Map<string, PackagePick>
  externalFiles: Set<string>
  /**
   * The runner bundle's build: packages copied into the bundle rather than imported by URL (pure ES modules of
   * hundreds of files, whose loading would dominate a runner's start), filled with the file each name resolved to.
   */
  inline?: Map<string, string | null>
}

/** An entry of the runner bundle that re-exports an inlined package: `forge-vendor:NAME`. */
export const VENDOR = 'forge-vendor:'

const LOADERS: Record<string, Loader> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
  '.json': 'json',
}
/** Plain JavaScript that Node loads as it is: imported by URL from where it lies, never copied into a bundle. */
const NODE_LOADS = new Set(['.js', '.mjs', '.cjs', ''])
/** Spelled in two parts so that this file, which the runner bundle holds, passes its own check below. */
const META = 'import' + '.meta'
const VARS = { url: '__forgeMetaUrl', dirname: '__forgeMetaDirname', filename: '__forgeMetaFilename' }
/** Each source declares these on its first line (see onLoad): after esbuild's renaming, every module reads its own. */
export const IMPORT_META_DEFINE = { [`${META}.url`]: VARS.url, [`${META}.dirname`]: VARS.dirname, [`${META}.filename`]: VARS.filename }
const META_RESOLVE = new RegExp(`\\b${META.replace('.', '\\.')}\\.resolve\\(\\s*(['"])([^'"\\n]+)\\1\\s*\\)`, 'g')
const META_OTHER = new RegExp(`\\b${META.replace('.', '\\.')}\\b(?!\\.(?:url|dirname|filename)\\b)`)
const SKIP = Symbol('forge-resolving')

/**
 * What makes a bundle behave as its sources did under tsx: the module's meta url (and dirname, filename) keep
 * naming each source file, and its `resolve('literal')` is resolved at build time as Node would; packages are not
 * copied in but imported by the absolute URL of the file Node's lookup from that source finds (recorded, so a
 * later lookup can check Node would still find it), so the bundle may live in any cache folder; `adas-forge`
 * resolves to this installation; in a DAG's build, the runtime's files become the runner bundle's outputs.
 * What Node would not load the same way fails the build (the runner then falls back to tsx): CommonJS sources,
 * dynamic imports of computed specifiers, other uses of the meta object, a package esbuild finds elsewhere than Node's lookup would.
 */
export function forgeBuildPlugin(opts: ForgeBuildOptions): Plugin {
  const moduleTypes = new Map<string, boolean>()
  return {
    name: 'adas-forge',
    setup(build) {
      const inlineRoots = new Set<string>()
      build.onResolve({ filter: /^forge-vendor:/ }, (args) => ({ path: args.path.slice(VENDOR.length), namespace: 'forge-vendor' }))
      build.onLoad({ filter: /.*/, namespace: 'forge-vendor' }, (args) => ({
        contents: `export * from ${JSON.stringify(args.path)}`,
        loader: 'js',
        resolveDir: RUNTIME_DIR,
      }))
      build.onResolve({ filter: /.*/ }, async (args): Promise<OnResolveResult | undefined> => {
        if (args.pluginData === SKIP || args.kind === 'entry-point') return undefined
        const r = await resolveLike(build, opts, args.path, args.resolveDir, args.kind, args.importer, inlineRoots)
        return 'error' in r ? { errors: [{ text: r.error }] } : r
      })
      build.onLoad({ filter: /.*/ }, async (args) => {
        const ext = extname(args.path)
        const loader = LOADERS[ext]
        if (!loader) return { errors: [{ text: `${args.path}: no loader for ${ext || 'a file without extension'}` }] }
        const bytes = readFileSync(args.path)
        opts.loaded.set(args.path, createHash('sha256').update(bytes).digest('hex'))
        let contents = bytes.toString('utf8')
        if (loader === 'json') return { contents, loader }
        const esm =
          ext === '.mts' || ext === '.mjs' || (ext !== '.cts' && ext !== '.cjs' && isModuleFolder(dirname(args.path), moduleTypes, opts.loaded))
        if (!esm) return { errors: [{ text: `${args.path} loads as CommonJS (no "type": "module" package.json above it)` }] }
        // The runner bundle's own computed imports name absolute DAG module URLs; a DAG's would move with the bundle.
        const computed = opts.runtimeEntries ? computedDynamicImport(contents) : null
        if (computed) return { errors: [{ text: `${args.path} imports a computed specifier (${computed}), which a bundle would resolve elsewhere` }] }
        const url = pathToFileURL(args.path).href
        const resolved = new Map<string, string>()
        for (const m of contents.matchAll(META_RESOLVE)) {
          const spec = m[2]!
          if (resolved.has(spec)) continue
          if (/^\.{0,2}\//.test(spec) || spec.startsWith('file:')) resolved.set(spec, new URL(spec, url).href)
          else {
            const r = await resolveLike(build, opts, spec, dirname(args.path), 'import-statement', args.path, inlineRoots)
            if ('error' in r) return { errors: [{ text: r.error }] }
            if (!r.external) return { errors: [{ text: `${args.path}: ${spec} resolves to a file the build would compile, not one Node loads` }] }
            resolved.set(spec, isBuiltin(r.path) ? `node:${r.path.replace(/^node:/, '')}` : r.path)
          }
        }
        contents = contents.replace(META_RESOLVE, (_all, _q, spec: string) => JSON.stringify(resolved.get(spec)))
        if (META_OTHER.test(contents)) return { errors: [{ text: `${args.path} uses ${META} beyond url, dirname, filename and resolve('literal')` }] }
        // Declared on the first line, so line numbers in stack traces stay the source's.
        if (contents.includes(META))
          contents =
            `var ${VARS.url} = ${JSON.stringify(url)}, ${VARS.dirname} = ${JSON.stringify(dirname(args.path))}, ` +
            `${VARS.filename} = ${JSON.stringify(args.path)};` +
            contents
        return { contents, loader, resolveDir: dirname(args.path) }
      })
    },
  }
}

type Resolution = { path: string; external?: boolean } | { error: string }

/** Where an import leads: a file to compile, or an external (builtin, runner-bundle output, package file by URL). */
async function resolveLike(
  build: PluginBuild,
  opts: ForgeBuildOptions,
  specifier: string,
  resolveDir: string,
  kind: ImportKind,
  importer: string,
  inlineRoots: Set<string>,
): Promise<Resolution> {
  if (isBuiltin(specifier)) return { path: specifier, external: true }
  let path = resolveSelf(specifier)
  const bare = path === null && !/^\.{0,2}\//.test(specifier) && !specifier.startsWith('file:')
  if (path === null) {
    const r = await build.resolve(specifier, { kind, resolveDir, importer, pluginData: SKIP })
    if (r.errors.length > 0) return { error: r.errors[0]!.text }
    if (r.external) return { path: r.path, external: true }
    path = r.path
  }
  const entry = opts.runtimeEntries?.get(path)
  if (entry) return { path: entry, external: true }
  if (inside(RUNTIME_DIR, path) && opts.runtimeEntries)
    return { error: `imports ${relative(RUNTIME_DIR, path)} of the runtime, which the prebuilt runner does not export` }
  if (!path.split(sep).includes('node_modules') || !NODE_LOADS.has(extname(path))) return { path }
  if ([...inlineRoots].some((root) => inside(root, path))) return { path }
  if (bare) {
    const pick = pickPackage(specifier, resolveDir)
    if (!pick || !inside(pick.real, path))
      return { error: `${specifier} (from ${resolveDir}) resolves to ${path}, not where Node's lookup finds the package` }
    opts.picks.set(`${pick.name}\0${resolveDir}`, pick)
    if (opts.inline?.has(pick.name)) {
      inlineRoots.add(pick.real)
      if (specifier === pick.name) opts.inline.set(pick.name, path)
      return { path }
    }
  }
  opts.externalFiles.add(path)
  return { path: pathToFileURL(path).href, external: true }
}

function inside(dir: string, path: string): boolean {
  return path === dir || path.startsWith(dir + sep)
}

/**
 * Whether `.ts` and `.js` files in `dir` load as ES modules: the nearest package.json says `"type": "module"`.
 * Each package.json looked at (or found missing) is recorded in `loaded`, so an edit of it, or one added nearer,
 * makes the build stale like an edit of a source.
 */
function isModuleFolder(dir: string, memo: Map<string, boolean>, loaded: Map<string, string>): boolean {
  const hit = memo.get(dir)
  if (hit !== undefined) return hit
  const file = join(dir, 'package.json')
  let answer: boolean
  try {
    const bytes = readFileSync(file)
    loaded.set(file, createHash('sha256').update(bytes).digest('hex'))
    answer = (JSON.parse(bytes.toString('utf8')) as { type?: string }).type === 'module'
  } catch (err) {
    const parent = dirname(dir)
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT'
    if (missing) loaded.set(file, 'missing')
    answer = missing && parent !== dir ? isModuleFolder(parent, memo, loaded) : false
  }
  memo.set(dir, answer)
  return answer
}

/** The files a runner bundle may hold: the runtime's sources and package.json, which its cache key covers. */
export function coveredByRunnerKey(path: string): boolean {
  return inside(RUNTIME_DIR, path) || path === PACKAGE_JSON
}
