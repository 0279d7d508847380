import type { Command } from 'commander'
import { ConfigError } from '../errors.ts'

/**
 * `forge carla info|record` and `forge carla-lite`. The operator code is imported only when one of these runs, so
 * the scheduler's CLI start-up does not load the CARLA client.
 */
export function addCarlaCommands(program: Command, set: (code: number) => void): void {
  const port = (name: string) => (v: string) => {
    const n = Number(v)
    if (!/^\s*\d+\s*$/.test(v) || n < 1 || n > 65535) throw new ConfigError(`${name} ${JSON.stringify(v)} is not a TCP port (1-65535)`)
    return n
  }
  const carla = program.command('carla').description('talk to a CARLA 0.9.15 server (or carla-lite, the procedural stand-in)')
  carla.command('info')
    .description("print the server's version, current map, available maps and blueprint count")
    .option('--host <host>', "server host; 'embedded' starts carla-lite in-process", 'embedded')
    .option('--port <port>', 'RPC port', port('--port'), 2000)
    .option('--json', 'print one JSON object')
    .action(async (o) => {
      const { carlaInfo } = await import('../../operators/carla/cli.ts')
      await carlaInfo({ host: o.host, port: o.port, json: o.json })
      set(0)
    })
  carla.command('record')
    .description('record one scenario shard (frames, KITTI and COCO labels, manifest) to --out; Ctrl-C restores the server')
    .option('--host <host>', "server host; 'embedded' starts carla-lite in-process", 'embedded')
    .option('--port <port>', 'RPC port', port('--port'), 2000)
    .option('--tm-port <port>', 'Traffic Manager port (the Python sidecar next to CARLA)', port('--tm-port'))
    .requiredOption('--scenario <file>', 'scenario spec (JSON); rejected with the bad field named before anything is spawned')
    .requiredOption('--out <dir>', 'parent folder of the shard folder')
    .action(async (o) => {
      const { carlaRecord } = await import('../../operators/carla/cli.ts')
      await carlaRecord({ host: o.host, port: o.port, tmPort: o.tmPort, scenarioFile: o.scenario, outDir: o.out })
      set(0)
    })
  program.command('carla-lite')
    .description('run carla-lite, a procedural stand-in for CARLA 0.9.15 (not CARLA), until Ctrl-C')
    .option('--port <port>', 'RPC port; streams use port+1', port('--port'), 2000)
    .option('--tm-port <port>', 'Traffic Manager port', port('--tm-port'), 8000)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .action(async (o) => {
      const { runCarlaLite } = await import('../../operators/carla/lite/index.ts')
      await runCarlaLite({ port: o.port, tmPort: o.tmPort, host: o.host })
      set(0)
    })
}
