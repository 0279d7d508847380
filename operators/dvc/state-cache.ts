/**
 * Digests of files already hashed, so an unchanged tree is not read again: like DVC's state database, an entry
 * is found by the file's inode and trusted only while its size and mtime (ns) are unchanged (docs/dvc-format.md
 * §10). Kept as one JSON file, by default `<repo>/.dvc/tmp/forge-md5-state.json`, next to DVC's own state.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { FileHasher } from './hash-file.ts'
import type { FileStat } from './walk-tree.ts'

interface StateEntry {
  size: string
  mtimeNs: string
  md5: string
}

interface StateFile {
  version: 1
  entries: Record<string, StateEntry>
}

export const STATE_FILE_NAME = 'forge-md5-state.json'

export class StateCache {
  private dirty = false
  hits = 0
  misses = 0

  private constructor(
    private readonly file: string,
    private readonly entries: Map<string, StateEntry>,
  ) {}

  /** Opens the state file; a missing or unreadable one starts empty (it is only a cache). */
  static async open(file: string): Promise<StateCache> {
    let entries = new Map<string, StateEntry>()
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as StateFile
      if (parsed.version === 1 && parsed.entries && typeof parsed.entries === 'object') entries = new Map(Object.entries(parsed.entries))
    } catch {
      // absent or corrupt: every file is hashed again and the file rewritten
    }
    return new StateCache(file, entries)
  }

  /** The file's md5, from the cache when (inode, size, mtime ns) match, else from `hasher` (and remembered). */
  async md5(file: string, hasher: FileHasher, st?: FileStat): Promise<string> {
    const s = st ?? (await stat(file, { bigint: true }))
    const key = `${s.dev}:${s.ino}`
    const size = String(s.size)
    const mtimeNs = String(s.mtimeNs)
    const known = this.entries.get(key)
    if (known && known.size === size && known.mtimeNs === mtimeNs) {
      this.hits++
      return known.md5
    }
    this.misses++
    const md5 = await hasher(file)
    this.entries.set(key, { size, mtimeNs, md5 })
    this.dirty = true
    return md5
  }

  /** Writes the state atomically (a temp file renamed over it), only when something was added. */
  async save(): Promise<void> {
    if (!this.dirty) return
    await mkdir(path.dirname(this.file), { recursive: true })
    const tmp = `${this.file}.${process.pid}.tmp`
    const body: StateFile = { version: 1, entries: Object.fromEntries(this.entries) }
    await writeFile(tmp, JSON.stringify(body))
    await rename(tmp, this.file)
    this.dirty = false
  }
}
