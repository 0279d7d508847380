/**
 * Reading a `.dir` manifest (docs/dvc-format.md §3) for a pull: a JSON list of `{md5, relpath}`, each md5 a
 * 32-hex file id and each relpath a name that stays inside the destination folder, since a crafted manifest
 * must never make a pull write elsewhere.
 */
import { insideFolder } from '../../runtime/index.ts'
import { DvcError } from './errors.ts'

export interface PullEntry {
  relpath: string
  md5: string
  /** Where the file goes under the staging folder. */
  target: string
}

const FILE_OID = /^[0-9a-f]{32}$/

export function parseManifest(bytes: Buffer, oid: string, root: string): PullEntry[] {
  let list: unknown
  try {
    list = JSON.parse(bytes.toString('utf8'))
  } catch (err) {
    throw new DvcError(`manifest ${oid} is not JSON: ${(err as Error).message}`, 'bad_manifest')
  }
  if (!Array.isArray(list)) throw new DvcError(`manifest ${oid} is not a JSON list`, 'bad_manifest')
  const seen = new Set<string>()
  return list.map((item: unknown, i) => {
    const e = item as { md5?: unknown; relpath?: unknown }
    if (typeof e?.relpath !== 'string' || typeof e.md5 !== 'string' || !FILE_OID.test(e.md5)) {
      throw new DvcError(
        `manifest ${oid}, entry ${i}: expected {"md5": <32 hex>, "relpath": <string>}, got ${JSON.stringify(item).slice(0, 200)}`,
        'bad_manifest',
      )
    }
    if (seen.has(e.relpath)) throw new DvcError(`manifest ${oid} lists ${JSON.stringify(e.relpath)} twice`, 'bad_manifest')
    seen.add(e.relpath)
    return { relpath: e.relpath, md5: e.md5, target: insideFolder(root, ...e.relpath.split('/')) }
  })
}
