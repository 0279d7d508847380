// `npm run bench -- scheduler [--n N] [--chain-n N] [--reps R]`
// adas-forge's scheduler vs graphile-worker and pg-boss on the same
// Postgres: fan-out throughput (1 root, N leaves, 1 join) and per-edge
// latency of an N-link chain.
import { measurePeers, type MeasureOptions, type PeerSummary } from './scheduler-peers.ts'
// adas-forge's own numbers: the bench DAGs through the real scheduler and executor.
import { measureForge } from './forge-scheduler.ts'
import { intFlag } from './stats.ts'

export async function run(args: string[]): Promise<{ line: string; json: Record<string, unknown> }> {
  const databaseUrl = process.env.FORGE_DATABASE_URL
  if (!databaseUrl) {
    throw new Error('set FORGE_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test')
  }
  const opts: MeasureOptions = {
    fanoutN: intFlag(args, '--n', 1000),
    chainN: intFlag(args, '--chain-n', 200),
    reps: intFlag(args, '--reps', 3),
    databaseUrl,
  }

  const forge: PeerSummary = await measureForge(opts)
  const peers = await measurePeers(opts)
  const gw = peers['graphile-worker']!
  const pb = peers['pg-boss']!

  const peerFanout = `graphile-worker ${gw.fanout.tasksPerSec}, pg-boss ${pb.fanout.tasksPerSec}`
  const peerChain = `graphile-worker ${gw.chain.p50MsPerEdge}, pg-boss ${pb.chain.p50MsPerEdge}`
  const peerLink = `graphile-worker ${gw.chain.msPerLink}, pg-boss ${pb.chain.msPerLink}`
  const line =
    `scheduler: fanout ${forge.fanout.tasksPerSec} tasks/s (${peerFanout}), ` +
    `chain p50 ${forge.chain.p50MsPerEdge} ms/edge (${peerChain}); ` +
    `chain end to end ${forge.chain.msPerLink} ms/link (${peerLink})`

  const { databaseUrl: _omit, ...params } = opts // keep the URL out of results
  return { line, json: { params, forge, peers } }
}
