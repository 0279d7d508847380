/**
 * A typed CARLA 0.9.15 RPC client (docs/carla-protocol.md §2). Every call goes out as `[[false], ...args]`: the
 * leading `[false]` is LibCarla's Metadata ("wait for the result"), and leaving it out triggers rpclib's arity error.
 */
import { RpcConnection, type RpcConnectOptions } from './rpc-connection.ts'
import type { Wire } from './msgpack-encode.ts'
import { unwrapResponse, unwrapVoid } from './codecs/response.ts'
import { arr, num, str, bool } from './codecs/read.ts'
import {
  decodeActor,
  decodeActorDefinition,
  encodeActorDescription,
  type Actor,
  type ActorDefinition,
  type ActorDescription,
} from './codecs/actor.ts'
import {
  decodeEpisodeInfo,
  decodeEpisodeSettings,
  decodeMapInfo,
  decodeToken,
  encodeEpisodeSettings,
  type EpisodeInfo,
  type EpisodeSettings,
  type MapInfo,
} from './codecs/episode.ts'
import { decodeWeatherParameters, encodeWeatherParameters, type WeatherParameters } from './codecs/weather.ts'
import { encodeTransform, type Transform } from './codecs/geom.ts'
import { decodeCommandResponse, encodeCommand, type Command, type CommandResponse } from './codecs/command.ts'

const METADATA_SYNC: Wire = [false]
/** `rpc/MapLayer.h` All. */
export const MAP_LAYERS_ALL = 0xffff

export interface CallOptions {
  timeoutMs?: number
}

export class CarlaClient {
  private constructor(
    private readonly conn: RpcConnection,
    readonly host: string,
    readonly port: number,
  ) {}

  static async connect(opts: RpcConnectOptions): Promise<CarlaClient> {
    return new CarlaClient(await RpcConnection.connect({ name: 'carla rpc', ...opts }), opts.host, opts.port)
  }

  get closed(): boolean {
    return this.conn.closed
  }

  close(): void {
    this.conn.close()
  }

  /** Raw call with the metadata prepended; returns the undecoded result. */
  callRaw(method: string, args: readonly Wire[], opts: CallOptions = {}): Promise<unknown> {
    return this.conn.call(method, [METADATA_SYNC, ...args], opts.timeoutMs)
  }

  private async value(method: string, args: readonly Wire[], opts?: CallOptions): Promise<unknown> {
    return unwrapResponse(method, await this.callRaw(method, args, opts))
  }

  private async void(method: string, args: readonly Wire[], opts?: CallOptions): Promise<void> {
    unwrapVoid(method, await this.callRaw(method, args, opts))
  }

  async version(opts?: CallOptions): Promise<string> {
    return str(await this.value('version', [], opts), 'version')
  }

  async getAvailableMaps(opts?: CallOptions): Promise<string[]> {
    return arr(await this.value('get_available_maps', [], opts), 'maps').map((m, i) => str(m, `maps[${i}]`))
  }

  /** Map loads can take longer than a normal call; pass a larger timeout. */
  loadNewEpisode(map: string, resetSettings = true, layers = MAP_LAYERS_ALL, opts?: CallOptions): Promise<void> {
    return this.void('load_new_episode', [map, resetSettings, layers], opts)
  }

  async getEpisodeInfo(opts?: CallOptions): Promise<EpisodeInfo> {
    return decodeEpisodeInfo(await this.value('get_episode_info', [], opts))
  }

  async getMapInfo(opts?: CallOptions): Promise<MapInfo> {
    return decodeMapInfo(await this.value('get_map_info', [], opts))
  }

  async getEpisodeSettings(opts?: CallOptions): Promise<EpisodeSettings> {
    return decodeEpisodeSettings(await this.value('get_episode_settings', [], opts))
  }

  /** Resolves with the frame at which the settings apply. */
  async setEpisodeSettings(settings: EpisodeSettings, opts?: CallOptions): Promise<number> {
    return num(await this.value('set_episode_settings', [encodeEpisodeSettings(settings)], opts), 'frame')
  }

  async getActorDefinitions(opts?: CallOptions): Promise<ActorDefinition[]> {
    const list = arr(await this.value('get_actor_definitions', [], opts), 'actor definitions')
    return list.map((d, i) => decodeActorDefinition(d, `ActorDefinition[${i}]`))
  }

  async getWeatherParameters(opts?: CallOptions): Promise<WeatherParameters> {
    return decodeWeatherParameters(await this.value('get_weather_parameters', [], opts))
  }

  setWeatherParameters(weather: WeatherParameters, opts?: CallOptions): Promise<void> {
    return this.void('set_weather_parameters', [encodeWeatherParameters(weather)], opts)
  }

  async spawnActor(description: ActorDescription, transform: Transform, opts?: CallOptions): Promise<Actor> {
    return decodeActor(await this.value('spawn_actor', [encodeActorDescription(description), encodeTransform(transform)], opts))
  }

  /** `transform` is relative to the parent; 0.9.15 takes exactly these four arguments (no socket name). */
  async spawnActorWithParent(
    description: ActorDescription,
    transform: Transform,
    parent: number,
    attachmentType = 0,
    opts?: CallOptions,
  ): Promise<Actor> {
    const args = [encodeActorDescription(description), encodeTransform(transform), parent, attachmentType]
    return decodeActor(await this.value('spawn_actor_with_parent', args, opts))
  }

  async destroyActor(actor: number, opts?: CallOptions): Promise<boolean> {
    return bool(await this.value('destroy_actor', [actor], opts), 'destroy_actor result')
  }

  /** The 24-byte token to subscribe with; in multi-GPU mode it can point at a secondary server. */
  async getSensorToken(streamId: number, opts?: CallOptions): Promise<Uint8Array> {
    return decodeToken(await this.value('get_sensor_token', [streamId], opts))
  }

  /** `apply_batch` is the one method whose result is not wrapped in Response: it is a list of CommandResponse. */
  async applyBatch(commands: readonly Command[], doTickCue = false, opts?: CallOptions): Promise<CommandResponse[]> {
    const raw = await this.callRaw('apply_batch', [commands.map(encodeCommand), doTickCue], opts)
    return arr(raw, 'apply_batch result').map((r, i) => decodeCommandResponse(r, `CommandResponse[${i}]`))
  }

  /** Advances a synchronous server one step; resolves with the frame the next world state will carry. */
  async tickCue(opts?: CallOptions): Promise<number> {
    return num(await this.value('tick_cue', [], opts), 'tick_cue frame')
  }

  /** Unknown ids are skipped by the server, so the result can be shorter than `ids`. */
  async getActorsById(ids: readonly number[], opts?: CallOptions): Promise<Actor[]> {
    const list = arr(await this.value('get_actors_by_id', [ids], opts), 'actors')
    return list.map((a, i) => decodeActor(a, `Actor[${i}]`))
  }
}
