/**
 * The files DVC puts in a directory's manifest (docs/dvc-format.md §3 steps 1-2): regular files at any depth,
 * through symlinks to files; not symlinked directories, not empty directories, and never what DVC always
 * ignores (`.git`, `.hg`, `.dvc` directories and `.git` files). Directories are listed and their files stat'ed on
 * the SDK's worker threads, several at once, since an unchanged tree costs little more than these stats.
 */
import path from 'node:path'
import { listDirectory, type DirectoryEntry } from '../../runtime/operator.ts'
import { DvcError } from './errors.ts'

/** What the state cache needs of a file's stat (a BigIntStats has it too). */
export interface FileStat {
  dev: bigint
  ino: bigint
  size: bigint
  mtimeNs: bigint
}

export interface WalkedFile {
  /** '/'-separated, relative to the walked directory. */
  relpath: string
  abs: string
  stat: FileStat
}

const IGNORED_DIRS = new Set(['.git', '.hg', '.dvc'])

export async function walkFiles(root: string): Promise<WalkedFile[]> {
  const out: WalkedFile[] = []
  const visit = async (dir: string, prefix: string): Promise<void> => {
    const subdirs: Array<Promise<void>> = []
    for (const e of await listDirectory(dir)) {
      const abs = path.join(dir, e.name)
      const rel = prefix + e.name
      if (e.name === '.dvcignore') {
        throw new DvcError(`${abs}: a .dvcignore inside a tracked directory is not allowed (DVC refuses it too)`, 'dvcignore_in_tracked_dir')
      }
      if (e.kind === 'dir') {
        // os.walk does not descend into symlinked directories.
        if (!e.link && !IGNORED_DIRS.has(e.name)) subdirs.push(visit(abs, rel + '/'))
        continue
      }
      if (e.name === '.git') continue
      if (e.kind === 'error') throw new DvcError(`${abs}: cannot read it (${e.error}); a broken symlink cannot be versioned`, 'unreadable_file')
      if (e.kind !== 'file') throw new DvcError(`${abs}: not a regular file (a socket, FIFO or device cannot be versioned)`, 'not_a_file')
      out.push({ relpath: rel, abs, stat: fileStat(e) })
    }
    await Promise.all(subdirs)
  }
  await visit(root, '')
  // Listings finish in any order; sorted, the walk (and the progress it drives) is the same every time.
  return out.sort((a, b) => (a.relpath < b.relpath ? -1 : a.relpath > b.relpath ? 1 : 0))
}

function fileStat(e: DirectoryEntry): FileStat {
  return { dev: e.dev!, ino: e.ino!, size: e.size!, mtimeNs: e.mtimeNs! }
}
