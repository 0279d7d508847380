/**
 * The `.dvc` file text that `dvc add` writes (docs/dvc-format.md §1), byte for byte: one `outs` item with md5,
 * size, nfiles (directories) or isexec (executable files), `hash: md5`, path; LF endings and a final newline.
 */
import type { BuiltOutput } from './build-tree.ts'
import { yamlScalar } from './yaml-scalar.ts'

export interface DvcOut {
  md5: string
  size: number
  nfiles?: number
  isexec?: boolean
  /** Relative to the `.dvc` file's folder, '/'-separated. */
  path: string
}

export function dvcFileText(out: DvcOut): string {
  const lines = ['outs:', `- md5: ${out.md5}`, `  size: ${out.size}`]
  if (out.nfiles !== undefined) lines.push(`  nfiles: ${out.nfiles}`)
  if (out.isexec) lines.push('  isexec: true')
  lines.push('  hash: md5', `  path: ${yamlScalar(out.path)}`)
  return lines.join('\n') + '\n'
}

export function dvcOutOf(built: BuiltOutput, name: string): DvcOut {
  return built.kind === 'dir'
    ? { md5: built.oid, size: built.size, nfiles: built.nfiles, path: name }
    : { md5: built.oid, size: built.size, isexec: built.isexec, path: name }
}

/** Reads back the fields this module writes (a `.dvc` file from `dvc add` has the same shape). */
export function parseDvcFile(text: string): DvcOut {
  const field = (key: string): string | undefined =>
    new RegExp(`^  ${key}: (.*)$|^- ${key}: (.*)$`, 'm')
      .exec(text)
      ?.slice(1)
      .find((v) => v !== undefined)
  const md5 = field('md5')
  const size = field('size')
  const p = field('path')
  if (!md5 || !size || p === undefined) throw new Error(`not a .dvc file with one output (md5, size and path expected):\n${text}`)
  const nfiles = field('nfiles')
  const unquote = (v: string): string =>
    v.startsWith("'") ? v.slice(1, -1).replaceAll("''", "'") : v.startsWith('"') ? (JSON.parse(v) as string) : v
  return {
    md5,
    size: Number(size),
    nfiles: nfiles === undefined ? undefined : Number(nfiles),
    isexec: field('isexec') === 'true' || undefined,
    path: unquote(p),
  }
}
