/**
 * hash: DVC hashing of a tree (md5 per file, the `.dir` manifest and its id) by operators/dvc, against `md5sum`
 * over the same files in the same run, then again over the unchanged tree, where the state cache answers.
 *
 * `npm run bench -- hash [--files 20000] [--mb 2048] [--reps 3]`. Targets: at least 0.9× md5sum's MB/s, and the
 * unchanged tree at least 10× faster than the first pass. Both sides read files just written (page cache warm).
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildOutput } from '../operators/dvc/build-tree.ts'
import { StateCache } from '../operators/dvc/state-cache.ts'
import { median } from './stats.ts'

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`)
  const v = i >= 0 ? Number(args[i + 1]) : fallback
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`)
  return v
}

async function makeTree(root: string, files: number, bytes: number): Promise<void> {
  const per = Math.max(1, Math.floor(bytes / files))
  const chunk = randomBytes(per)
  for (let i = 0; i < files; i++) {
    const dir = path.join(root, `shard-${String(i % 100).padStart(3, '0')}`)
    if (i < 100) await mkdir(dir, { recursive: true })
    chunk.writeUInt32LE(i, 0) // distinct contents, so every file is its own object
    await writeFile(path.join(dir, `${String(i).padStart(6, '0')}.bin`), chunk)
  }
}

function md5sumSeconds(root: string): number {
  const t = performance.now()
  execFileSync('sh', ['-c', 'find . -type f -print0 | xargs -0 md5sum > /dev/null'], { cwd: root })
  return (performance.now() - t) / 1000
}

async function forgeSeconds(root: string, stateFile: string): Promise<{ seconds: number; hashed: number; oid: string }> {
  const t = performance.now()
  const state = await StateCache.open(stateFile)
  const built = await buildOutput(root, { state })
  await state.save()
  return { seconds: (performance.now() - t) / 1000, hashed: state.misses, oid: built.oid }
}

export async function run(args: string[]): Promise<{ line: string; json: Record<string, unknown> }> {
  const files = arg(args, 'files', 20_000)
  const mb = arg(args, 'mb', 2048)
  const reps = arg(args, 'reps', 3)
  const base = await mkdtemp(path.join(os.tmpdir(), 'bench-hash-'))
  const tree = path.join(base, 'tree')
  try {
    await makeTree(tree, files, mb * 2 ** 20)
    execFileSync('sync')
    const totalMb = mb
    const samples: Array<{ md5sum: number; cold: number; warm: number }> = []
    let oid = ''
    for (let r = 0; r < reps; r++) {
      const stateFile = path.join(base, `state-${r}.json`)
      // Alternate who goes first, so neither side always gets the warmer cache.
      const peerFirst = r % 2 === 0
      const peer1 = peerFirst ? md5sumSeconds(tree) : 0
      const cold = await forgeSeconds(tree, stateFile)
      const peer2 = peerFirst ? 0 : md5sumSeconds(tree)
      const warm = await forgeSeconds(tree, stateFile)
      if (cold.hashed !== files || warm.hashed !== 0) throw new Error(`expected ${files} files hashed then 0, got ${cold.hashed} then ${warm.hashed}`)
      if (warm.oid !== cold.oid) throw new Error('the unchanged tree got another id')
      oid = cold.oid
      samples.push({ md5sum: peer1 || peer2, cold: cold.seconds, warm: warm.seconds })
      process.stderr.write(
        `rep ${r + 1}/${reps}: md5sum ${(peer1 || peer2).toFixed(2)} s, forge ${cold.seconds.toFixed(2)} s, unchanged ${warm.seconds.toFixed(3)} s\n`,
      )
    }
    const peer = median(samples.map((s) => s.md5sum))
    const cold = median(samples.map((s) => s.cold))
    const warm = median(samples.map((s) => s.warm))
    const ours = totalMb / cold
    const theirs = totalMb / peer
    const line = `hash: ${ours.toFixed(0)} MB/s (md5sum ${theirs.toFixed(0)} MB/s); unchanged tree ${(cold / warm).toFixed(1)}x faster (${warm.toFixed(2)} s); ${files} files, ${totalMb} MB, median of ${reps}`
    return {
      line,
      json: {
        files,
        mb: totalMb,
        reps,
        oid,
        median: {
          forgeMBps: ours,
          md5sumMBps: theirs,
          ratioToMd5sum: ours / theirs,
          coldSeconds: cold,
          unchangedSeconds: warm,
          unchangedSpeedup: cold / warm,
        },
        targets: { ratioToMd5sum: 0.9, unchangedSpeedup: 10 },
        samples,
      },
    }
  } finally {
    await rm(base, { recursive: true, force: true })
  }
}
