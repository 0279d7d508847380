import { readFileSync, realpathSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { sha256 } from './build-cache.ts'

/**
 * Which installed package a bare specifier named when a bundle was built, as Node finds it: the first
 * `node_modules/NAME` folder walking up from the importer's folder. A bundle imports packages by the URL of the
 * file found then, so it holds only while Node would still find the same package: the folders looked in before
 * it still hold none, it is still the same folder (real path), and its package.json (exports, main) is unchanged.
 */
export interface PackagePick {
  name: string
  /** Folders looked in first, which held no such package. */
  missing: string[]
  /** The package's folder, and its real path. */
  dir: string
  real: string
  /** sha256 of its package.json. */
  manifest: string
}

/** The package a bare specifier imported from `fromDir` resolves to; null for `#imports` and names not installed. */
export function pickPackage(specifier: string, fromDir: string): PackagePick | null {
  if (specifier.startsWith('#')) return null
  const parts = specifier.split('/')
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
  const missing: string[] = []
  for (let d = fromDir; ; d = dirname(d)) {
    const dir = join(d, 'node_modules', name)
    if (isDir(dir)) return { name, missing, dir, real: realpathSync(dir), manifest: manifestHash(dir) }
    missing.push(dir)
    if (dirname(d) === d) return null
  }
}

export function pickStillHolds(p: PackagePick): boolean {
  if (p.missing.some(isDir) || !isDir(p.dir)) return false
  try {
    return realpathSync(p.dir) === p.real && manifestHash(p.dir) === p.manifest
  } catch {
    return false
  }
}

function manifestHash(dir: string): string {
  try {
    return sha256(readFileSync(join(dir, 'package.json')))
  } catch {
    return 'missing'
  }
}

function isDir(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false
}

/** What a bundle records of the packages it imports by URL, and the check that they are still what Node would load. */
export interface ExternalRecord {
  picks: PackagePick[]
  files: string[]
}

export function externalsHold(r: ExternalRecord): boolean {
  return r.picks.every(pickStillHolds) && r.files.every((f) => statSync(f, { throwIfNoEntry: false })?.isFile() ?? false)
}
