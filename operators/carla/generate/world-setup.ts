/**
 * Steps 1–5 of the generation sequence (docs/carla-protocol.md §6): version check, map load, world observer, sync
 * mode, weather. Each step that changes server state registers its undo with the teardown first.
 */
import type { CarlaClient } from '../client/carla-client.ts'
import type { EpisodeSettings } from '../client/codecs/episode.ts'
import type { TaskLogger } from '../../../runtime/index.ts'
import { resolveWeather, ScenarioError, type Scenario } from '../scenario.ts'
import { abortable, sleep, throwIfAborted } from './abort.ts'
import { Phase, type Teardown } from './teardown.ts'

export const EXPECTED_VERSION = '0.9.15'

export interface WorldContext {
  client: CarlaClient
  teardown: Teardown
  log: TaskLogger
  signal?: AbortSignal
}

/** Like LibCarla: a version mismatch is a warning, not an error. */
export async function checkVersion(w: WorldContext): Promise<string> {
  const version = await abortable(w.client.version(), w.signal)
  if (version !== EXPECTED_VERSION) w.log(`server version ${version} differs from client version ${EXPECTED_VERSION}; continuing`, { version })
  return version
}

/** Accepts 'Town10HD_Opt' or a full UE path; the error lists what the server has. */
export function resolveMap(requested: string, available: readonly string[]): string {
  const hit = available.find((m) => m === requested) ?? available.find((m) => m.split('/').pop() === requested.split('/').pop())
  if (!hit)
    throw new ScenarioError(
      `scenario field 'map': '${requested}' is not on the server (available: ${available.map((m) => m.split('/').pop()).join(', ')})`,
      'map',
    )
  return hit
}

/**
 * Loads the map and waits for the new episode. A server left in sync mode by someone else only loads while it
 * is ticked, so we keep sending tick_cue while polling, as LibCarla's LoadEpisode does.
 */
export async function loadMap(w: WorldContext, map: string, timeoutMs = 60_000): Promise<void> {
  const before = await abortable(w.client.getEpisodeInfo(), w.signal)
  const settings = await abortable(w.client.getEpisodeSettings(), w.signal)
  await abortable(w.client.loadNewEpisode(map, true, undefined, { timeoutMs: Math.max(timeoutMs, 5000) }), w.signal)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    throwIfAborted(w.signal)
    if (settings.synchronousMode)
      await abortable(
        w.client.tickCue().catch(() => 0),
        w.signal,
      )
    const info = await abortable(w.client.getEpisodeInfo(), w.signal)
    if (info.id !== before.id) return
    if (Date.now() > deadline) throw new Error(`load_new_episode(${map}): episode id still ${before.id} after ${timeoutMs} ms`)
    await sleep(100, w.signal)
  }
}

/** Saves the current settings (restored on every exit) and switches to sync mode with a fixed step. */
export async function enterSyncMode(w: WorldContext, fixedDelta: number): Promise<EpisodeSettings> {
  const saved = await abortable(w.client.getEpisodeSettings(), w.signal)
  // Registered before the change: if set_episode_settings times out it may still have applied.
  w.teardown.add(Phase.Settings, 'restore episode settings', () => w.client.setEpisodeSettings(saved))
  await abortable(w.client.setEpisodeSettings({ ...saved, synchronousMode: true, fixedDeltaSeconds: fixedDelta }), w.signal)
  return saved
}

export async function applyWeather(w: WorldContext, scenario: Scenario): Promise<void> {
  await abortable(w.client.setWeatherParameters(resolveWeather(scenario.weather)), w.signal)
}
