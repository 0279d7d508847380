/**
 * `carlaGenerate()`: the shard generator as an operator. It fills what the mapped element leaves out from the
 * CARLA config slice, declares the shard folder as an outlet, and resumes through heartbeat details.
 *
 * Resume covers one case, the cheap one: the previous try wrote the shard completely (its manifest is on disk) and
 * then failed, in teardown or by losing its process. A shard cut off mid-recording starts over, because the world
 * state at frame N (traffic, pedestrians, the sensors' noise) exists only in the server that ran the first N ticks:
 * continuing would mean replaying them, which costs as much as recording them.
 */
import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { defineOperator, z, type OperatorLogger } from '../../../runtime/operator.ts'
import { carlaConfig, type CarlaConfig } from '../config.ts'
import type { ScenarioInput } from '../scenario.ts'
import { generateShard, shardLocation, toItem, type CarlaShardItem, type ShardResult } from './carla-generate.ts'

const recorded = z.object({
  shard: z.string(),
  dir: z.string(),
  frames: z.number().int(),
  labels: z.number().int(),
  bytes: z.number().int(),
  /** sha256 of manifest.json: proves the folder still holds the shard that try wrote. */
  manifestSha256: z.string().regex(/^[0-9a-f]{64}$/),
})

export const carlaGenerate = defineOperator({
  name: 'carla.generate',
  config: carlaConfig,
  details: z.object({ recorded }),
  settings: { pool: 'gpu' },
  item: (element: CarlaShardItem | ScenarioInput) => toItem(element),
  run: async (ctx): Promise<ShardResult> => {
    const item = withDefaults(ctx.item, ctx.config)
    const { shard, dir } = shardLocation(item)
    const log = ctx.log.child({ shard })
    const previous = ctx.previousDetails?.recorded
    const reused = previous ? await verifiedShard(previous, dir, log) : null
    const result =
      reused ??
      (await generateShard(item, {
        signal: ctx.signal,
        log,
        progress: (d, t, u) => ctx.progress(d, t, u),
        onRecorded: async (r) => ctx.heartbeat({ recorded: { ...r, manifestSha256: await manifestSha256(r.dir) } }),
      }))
    ctx.outlet(pathToFileURL(path.resolve(result.dir)).href, { shard, frames: result.frames, labels: result.labels, bytes: result.bytes })
    return result
  },
})

function withDefaults(item: CarlaShardItem, cfg: CarlaConfig): CarlaShardItem {
  return {
    ...item,
    host: item.host ?? cfg.host,
    port: item.port ?? cfg.port,
    tmPort: item.tmPort ?? cfg.tmPort,
    outDir: item.outDir ?? cfg.outDir,
    rpcTimeoutMs: item.rpcTimeoutMs ?? cfg.rpcTimeoutMs,
    writers: item.writers ?? cfg.writers,
  }
}

async function manifestSha256(dir: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path.join(dir, 'manifest.json')))
    .digest('hex')
}

/** The previous try's shard, if it is this item's folder and its manifest and files are as that try wrote them. */
async function verifiedShard(prev: z.output<typeof recorded>, dir: string, log: OperatorLogger): Promise<ShardResult | null> {
  const why = await (async () => {
    if (path.resolve(prev.dir) !== path.resolve(dir)) return `it was written to ${prev.dir}`
    const sha = await manifestSha256(dir).catch(() => null)
    if (sha !== prev.manifestSha256) return sha ? 'its manifest.json changed' : 'its manifest.json is gone'
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { files?: Array<{ path: string; bytes: number }> }
    for (const f of manifest.files ?? []) {
      const size = await stat(path.join(dir, f.path)).then(
        (s) => s.size,
        () => -1,
      )
      if (size !== f.bytes) return `${f.path} is ${size < 0 ? 'missing' : `${size} bytes, not ${f.bytes}`}`
    }
    return null
  })()
  if (why) {
    log(`recording the shard again: the previous try recorded it, but ${why}`)
    return null
  }
  log('the previous try recorded this shard completely; reusing it', { frames: prev.frames })
  const { manifestSha256: _, ...result } = prev
  return result
}
