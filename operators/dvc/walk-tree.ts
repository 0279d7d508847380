/**
 * The files DVC puts in a directory's manifest (docs/dvc-format.md §3 steps 1-2): regular files at any depth,
 * through symlinks to files; not symlinked directories, not empty directories, and never what DVC always
 * ignores (`.git`, `.hg`, `.dvc` directories and `.git` files).
 */
import { statSync, type BigIntStats } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import path from 'node:path'
import { DvcError } from './errors.ts'

export interface WalkedFile {
  /** '/'-separated, relative to the walked directory. */
  relpath: string
  abs: string
  stat: BigIntStats
}

const IGNORED_DIRS = new Set(['.git', '.hg', '.dvc'])

/** Files stat'ed between two turns of the event loop: a cached stat takes microseconds, a thread-pool round trip 20-50. */
const STAT_BATCH = 256

function statEntry(abs: string): BigIntStats {
  try {
    return statSync(abs, { bigint: true })
  } catch (err) {
    throw new DvcError(`${abs}: cannot read it (${(err as Error).message}); a broken symlink cannot be versioned`, 'unreadable_file')
  }
}

export async function walkFiles(root: string): Promise<WalkedFile[]> {
  const out: WalkedFile[] = []
  const visit = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true })
    const subdirs: Array<[string, string]> = []
    const files: Array<{ abs: string; rel: string; link: boolean }> = []
    for (const d of entries) {
      const abs = path.join(dir, d.name)
      const rel = prefix + d.name
      if (d.name === '.dvcignore') {
        throw new DvcError(`${abs}: a .dvcignore inside a tracked directory is not allowed (DVC refuses it too)`, 'dvcignore_in_tracked_dir')
      }
      if (d.isDirectory()) {
        if (!IGNORED_DIRS.has(d.name)) subdirs.push([abs, rel + '/'])
        continue
      }
      if (d.name === '.git') continue
      files.push({ abs, rel, link: d.isSymbolicLink() })
    }
    for (let i = 0; i < files.length; i += STAT_BATCH) {
      const batch = files.slice(i, i + STAT_BATCH)
      for (const f of batch) {
        const st = statEntry(f.abs)
        if (f.link && st.isDirectory()) continue // os.walk does not descend into symlinked directories
        if (!st.isFile()) throw new DvcError(`${f.abs}: not a regular file (a socket, FIFO or device cannot be versioned)`, 'not_a_file')
        out.push({ relpath: f.rel, abs: f.abs, stat: st })
      }
      await yieldToLoop()
    }
    for (const [abs, rel] of subdirs) await visit(abs, rel)
  }
  await visit(root, '')
  return out
}
