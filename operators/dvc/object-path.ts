/**
 * Where DVC 3 keeps an object, in the cache and on a remote alike: `files/md5/<first 2 hex>/<the rest>`
 * (docs/dvc-format.md §4-5). The id is checked first, so a crafted `.dvc` file cannot point outside.
 */
import { DvcError } from './errors.ts'

const OID = /^[0-9a-f]{32}(\.dir)?$/

export function objectKey(oid: string): string {
  if (!OID.test(oid)) throw new DvcError(`not a DVC md5 object id: ${JSON.stringify(oid)}`, 'bad_oid')
  return `files/md5/${oid.slice(0, 2)}/${oid.slice(2)}`
}
