// Runs the peer queues (graphile-worker, pg-boss) through the scheduler
// benchmark shapes and summarises them with medians over repetitions.
import * as graphileWorker from './peers/graphile-worker.ts'
import * as pgBoss from './peers/pg-boss.ts'
import type { ChainResult, FanoutResult } from './peers/common.ts'
import { medianOf } from './stats.ts'

export type { ChainResult, FanoutResult }

export interface PeerModule {
  fanout(n: number, databaseUrl: string): Promise<FanoutResult>
  chain(n: number, databaseUrl: string): Promise<ChainResult>
}

/** Medians plus every raw repetition, so outliers stay visible in the JSON. */
export interface PeerSummary {
  fanout: FanoutResult
  chain: ChainResult
  reps: { fanout: FanoutResult[]; chain: ChainResult[] }
}

export interface MeasureOptions {
  fanoutN?: number
  chainN?: number
  reps?: number
  databaseUrl: string
}

export const PEERS: Record<string, PeerModule> = {
  'graphile-worker': graphileWorker,
  'pg-boss': pgBoss,
}

export async function measurePeers(opts: MeasureOptions): Promise<Record<string, PeerSummary>> {
  const { fanoutN = 1000, chainN = 200, reps = 3, databaseUrl } = opts
  // Untimed warm-up: JIT-compile both libraries and the pg driver once so
  // the first timed repetition isn't penalised. Every timed repetition
  // still starts from a fresh database and a fresh worker.
  for (const peer of Object.values(PEERS)) {
    await peer.fanout(Math.min(fanoutN, 50), databaseUrl)
    await peer.chain(Math.min(chainN, 10), databaseUrl)
  }
  const raw: Record<string, PeerSummary['reps']> = {}
  for (const name of Object.keys(PEERS)) raw[name] = { fanout: [], chain: [] }
  // Interleave peers within each repetition so slow drift on the machine
  // (other load, autovacuum, page cache) hits both peers alike.
  for (let rep = 0; rep < reps; rep++) {
    for (const [name, peer] of Object.entries(PEERS)) raw[name]!.fanout.push(await peer.fanout(fanoutN, databaseUrl))
    for (const [name, peer] of Object.entries(PEERS)) raw[name]!.chain.push(await peer.chain(chainN, databaseUrl))
  }
  const out: Record<string, PeerSummary> = {}
  for (const [name, r] of Object.entries(raw)) {
    out[name] = { fanout: medianOf(r.fanout), chain: medianOf(r.chain), reps: r }
  }
  return out
}
