/**
 * The files DVC puts in a directory's manifest (docs/dvc-format.md §3 steps 1-2): regular files at any depth,
 * through symlinks to files; not symlinked directories, not empty directories, and never what DVC always
 * ignores (`.git`, `.hg`, `.dvc` directories and `.git` files).
 */
import { readdir, stat } from 'node:fs/promises'
import type { BigIntStats } from 'node:fs'
import path from 'node:path'
import { DvcError } from './errors.ts'

export interface WalkedFile {
  /** '/'-separated, relative to the walked directory. */
  relpath: string
  abs: string
  stat: BigIntStats
}

const IGNORED_DIRS = new Set(['.git', '.hg', '.dvc'])

export async function walkFiles(root: string): Promise<WalkedFile[]> {
  const out: WalkedFile[] = []
  const visit = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true })
    for (const d of entries) {
      const abs = path.join(dir, d.name)
      const rel = prefix + d.name
      if (d.name === '.dvcignore') {
        throw new DvcError(`${abs}: a .dvcignore inside a tracked directory is not allowed (DVC refuses it too)`, 'dvcignore_in_tracked_dir')
      }
      if (d.isDirectory()) {
        if (!IGNORED_DIRS.has(d.name)) await visit(abs, rel + '/')
        continue
      }
      if (d.name === '.git') continue
      let st: BigIntStats
      try {
        st = await stat(abs, { bigint: true })
      } catch (err) {
        throw new DvcError(`${abs}: cannot read it (${(err as Error).message}); a broken symlink cannot be versioned`, 'unreadable_file')
      }
      if (d.isSymbolicLink() && st.isDirectory()) continue // os.walk does not descend into symlinked directories
      if (!st.isFile()) throw new DvcError(`${abs}: not a regular file (a socket, FIFO or device cannot be versioned)`, 'not_a_file')
      out.push({ relpath: rel, abs, stat: st })
    }
  }
  await visit(root, '')
  return out
}
