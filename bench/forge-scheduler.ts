// PLACEHOLDER -- the main engineer replaces this with adas-forge's own
// scheduler measurement (same shapes and result types as the peers).
import type { MeasureOptions, PeerSummary } from './scheduler-peers.ts';

export const NOT_WIRED = 'forge scheduler bench not wired yet';

export async function measureForge(_opts: MeasureOptions): Promise<PeerSummary> {
  throw new Error(NOT_WIRED);
}
