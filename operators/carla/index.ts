/**
 * The CARLA operator: a TypeScript client for CARLA 0.9.15's wire protocol, and the shard generator built on it.
 *
 * ```ts
 * import { carlaGenerate, scenarioMatrix } from '../operators/carla/index.ts'
 * const plan = dag.task('plan', ({ params }) => scenarioMatrix({ maps: params.towns, weathers: ['ClearNoon'], seeds: [1, 2], sensors, frames: 100 }))
 * dag.map('simulate', plan.out, carlaGenerate(), { pool: 'gpu' })
 * ```
 */
export { CarlaClient, MAP_LAYERS_ALL } from './client/carla-client.ts'
export { TrafficManagerClient } from './client/traffic-manager-client.ts'
export { CarlaRpcError, CarlaTimeoutError, CarlaConnectionError, CarlaProtocolError } from './client/errors.ts'
export { subscribeStream } from './client/stream-socket.ts'
export { parseStreamToken } from './client/stream-token.ts'
export { parseImage, parseSensorHeader, decodeDepth, semanticTags, SensorType, SemanticTag } from './client/stream-sensor-data.ts'
export { parseWorldState } from './client/stream-world-state.ts'
export type { Actor, ActorDefinition, ActorDescription } from './client/codecs/actor.ts'
export type { Transform, Location, Rotation, BoundingBox, Vector3D } from './client/codecs/geom.ts'
export type { EpisodeSettings, EpisodeInfo, MapInfo } from './client/codecs/episode.ts'
export { WEATHER_PRESETS, type WeatherParameters } from './client/codecs/weather.ts'
export type { Command, CommandResponse, VehicleControl } from './client/codecs/command.ts'
export { projectBox, intrinsics } from './labels/project-box.ts'
export { labelFrame, type ObjectLabel } from './labels/label-frame.ts'
export { kittiLine, kittiFile } from './labels/kitti.ts'
export { CocoWriter } from './labels/coco.ts'
export { parseScenario, scenarioMatrix, scenarioSchema, ScenarioError, type Scenario, type ScenarioInput } from './scenario.ts'
export { generateShard, type CarlaShardItem, type ShardResult } from './generate/carla-generate.ts'
export { carlaGenerate } from './generate/carla-generate.operator.ts'
export { carlaConfig, type CarlaConfig } from './config.ts'
export { carlaInfo, carlaRecord } from './cli.ts'
