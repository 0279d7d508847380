import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join, relative, resolve } from 'node:path'
import { ConfigError } from '../errors.ts'
import { DAGS_PACKAGE_JSON, EXAMPLE_DAG, GITIGNORE_LINES, PROJECT_SCRIPTS, TSCONFIG, projectPackageJson } from './project-template.ts'

export interface InitResult {
  dir: string
  /** Paths relative to `dir`, in the order written. */
  created: string[]
  updated: string[]
  /** The project declares no TypeScript, so `npm run typecheck` needs it installed first. */
  needsTypescript: boolean
}

/** What the installation says about itself: the version a new project depends on, the TypeScript it is checked with. */
export interface Installation {
  version: string
  typescript: string | null
}

/**
 * Scaffolds a DAG project in `dir` (created if missing). New files are never written over: if any exists, nothing
 * is written and the error names them all. An existing package.json gets the missing scripts (npm init's
 * placeholder `test` counts as missing) and an existing .gitignore the missing lines; nothing else in them changes.
 */
export function initProject(dirArg: string, install: Installation): InitResult {
  const dir = resolve(dirArg)
  const fresh: Array<[string, string]> = [
    ['tsconfig.json', json(TSCONFIG)],
    ['dags/package.json', json(DAGS_PACKAGE_JSON)],
    ['dags/example.dag.ts', EXAMPLE_DAG],
  ]
  const taken = fresh.map(([f]) => f).filter((f) => existsSync(join(dir, f)))
  if (taken.length > 0) {
    const names = taken.map((f) => relative(process.cwd(), join(dir, f)) || f).join(', ')
    throw new ConfigError(
      `init wrote nothing: ${names} already ${taken.length === 1 ? 'exists' : 'exist'} (move ${taken.length === 1 ? 'it' : 'them'} away or init another folder)`,
    )
  }
  const pkgPath = join(dir, 'package.json')
  const pkg = existsSync(pkgPath) ? mergedPackageJson(pkgPath) : null
  const ignorePath = join(dir, '.gitignore')
  const ignore = existsSync(ignorePath) ? mergedGitignore(readFileSync(ignorePath, 'utf8')) : null

  const result: InitResult = { dir, created: [], updated: [], needsTypescript: pkg !== null && !pkg.hasTypescript }
  mkdirSync(join(dir, 'dags'), { recursive: true })
  if (pkg === null) {
    writeFileSync(pkgPath, json(projectPackageJson(packageName(dir), install.version, install.typescript)), { flag: 'wx' })
    result.created.push('package.json')
  } else if (pkg.changed) {
    writeFileSync(pkgPath, pkg.text)
    result.updated.push('package.json')
  }
  for (const [file, text] of fresh) {
    // 'wx': a file that appeared since the check above is still not overwritten.
    writeFileSync(join(dir, file), text, { flag: 'wx' })
    result.created.push(file)
  }
  if (ignore === null) {
    writeFileSync(ignorePath, GITIGNORE_LINES.join('\n') + '\n', { flag: 'wx' })
    result.created.push('.gitignore')
  } else if (ignore.changed) {
    writeFileSync(ignorePath, ignore.text)
    result.updated.push('.gitignore')
  }
  return result
}

const NPM_INIT_TEST = /no test specified/

function mergedPackageJson(path: string): { text: string; changed: boolean; hasTypescript: boolean } {
  let pkg: { scripts?: Record<string, string>; dependencies?: Record<string, string>; devDependencies?: Record<string, string> }
  try {
    pkg = JSON.parse(readFileSync(path, 'utf8')) as typeof pkg
  } catch (err) {
    throw new ConfigError(`init wrote nothing: ${path} is not valid JSON (${(err as Error).message})`)
  }
  if (!pkg || typeof pkg !== 'object' || Array.isArray(pkg)) throw new ConfigError(`init wrote nothing: ${path} is not a JSON object`)
  const scripts = { ...(pkg.scripts ?? {}) }
  let changed = false
  for (const [name, command] of Object.entries(PROJECT_SCRIPTS)) {
    if (scripts[name] === undefined || (name === 'test' && NPM_INIT_TEST.test(scripts[name]))) {
      scripts[name] = command
      changed = true
    }
  }
  const hasTypescript = Boolean(pkg.dependencies?.typescript ?? pkg.devDependencies?.typescript)
  return { text: json({ ...pkg, scripts }), changed, hasTypescript }
}

function mergedGitignore(text: string): { text: string; changed: boolean } {
  const have = new Set(text.split('\n').map((l) => l.trim()))
  const missing = GITIGNORE_LINES.filter((l) => !have.has(l) && !have.has(l.replace(/\/$/, '')))
  if (missing.length === 0) return { text, changed: false }
  return { text: text + (text === '' || text.endsWith('\n') ? '' : '\n') + missing.join('\n') + '\n', changed: true }
}

/** npm's name rules: lowercase, no spaces or leading dot/underscore; the folder name made to fit. */
function packageName(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '')
    .slice(0, 214)
  return name || 'forge-dags'
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n'
}
