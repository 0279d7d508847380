/**
 * The Traffic Manager's RPC (docs/carla-protocol.md §5). It is plain rpclib: no Metadata argument and no Response
 * envelope. Against real CARLA the TM lives in a client process (a Python 0.9.15 sidecar on port 8000); carla-lite,
 * the procedural stand-in, hosts one itself.
 */
import { RpcConnection, type RpcConnectOptions } from './rpc-connection.ts'
import { f32 } from './msgpack-encode.ts'
import { encodeActor, type Actor } from './codecs/actor.ts'

export class TrafficManagerClient {
  private constructor(private readonly conn: RpcConnection) {}

  static async connect(opts: RpcConnectOptions): Promise<TrafficManagerClient> {
    // TM_TIMEOUT in LibCarla is 2000 ms.
    return new TrafficManagerClient(await RpcConnection.connect({ name: 'traffic manager', timeoutMs: 2000, ...opts }))
  }

  close(): void {
    this.conn.close()
  }

  async registerVehicles(actors: readonly Actor[]): Promise<void> {
    await this.conn.call('register_vehicle', [actors.map(encodeActor)])
  }

  async unregisterVehicles(actors: readonly Actor[]): Promise<void> {
    await this.conn.call('unregister_vehicle', [actors.map(encodeActor)])
  }

  async setSynchronousMode(on: boolean): Promise<void> {
    await this.conn.call('set_synchronous_mode', [on])
  }

  /** Called after every world tick in sync mode; the TM computes and applies controls here. */
  async synchronousTick(): Promise<boolean> {
    return Boolean(await this.conn.call('synchronous_tick', []))
  }

  async setRandomDeviceSeed(seed: number | bigint): Promise<void> {
    await this.conn.call('set_random_device_seed', [seed])
  }

  async setGlobalDistanceToLeadingVehicle(metres: number): Promise<void> {
    await this.conn.call('set_global_distance_to_leading_vehicle', [f32(metres)])
  }

  async setGlobalPercentageSpeedDifference(percent: number): Promise<void> {
    await this.conn.call('set_global_percentage_speed_difference', [f32(percent)])
  }

  async setHybridPhysicsMode(on: boolean): Promise<void> {
    await this.conn.call('set_hybrid_physics_mode', [on])
  }

  async healthCheck(): Promise<void> {
    await this.conn.call('health_check_remote_TM', [])
  }
}
