/**
 * The CARLA plugin: `forge carla info|record`, `forge carla-lite`, and the main job (`npm start`), the nightly
 * dataset build. This module stays light because `forge` imports it at start: the client, the generator and
 * carla-lite are imported only when one of these commands runs.
 */
import { ConfigError } from '../../runtime/index.ts'
import { definePlugin, readConfigSlice } from '../../runtime/operator.ts'
import { carlaConfig } from './config.ts'

const port =
  (name: string) =>
  (v: string): number => {
    const n = Number(v)
    if (!/^\s*\d+\s*$/.test(v) || n < 1 || n > 65535) throw new ConfigError(`${name} ${JSON.stringify(v)} is not a TCP port (1-65535)`)
    return n
  }

/** The command line wins; what it leaves out comes from CARLA_HOST, CARLA_PORT and CARLA_TM_PORT, then the defaults. */
const settings = () => readConfigSlice('carla', carlaConfig)

export default definePlugin({
  name: 'carla',
  mainJob: {
    dagId: 'carla_nightly_dataset',
    summaryKeys: ['frames', 'labels', 'shards', 'bytes', 'files', 'augmentedFrames', 'augmentedLabels', 'dataset', 'md5', 's3', 'mlflow'],
  },
  commands(program, { setExitCode }) {
    const carla = program.command('carla').description('talk to a CARLA 0.9.15 server (or carla-lite, the procedural stand-in)')
    carla
      .command('info')
      .description("print the server's version, current map, available maps and blueprint count")
      .option('--host <host>', "server host; 'embedded' starts carla-lite in-process (default: CARLA_HOST, else embedded)")
      .option('--port <port>', 'RPC port (default: CARLA_PORT, else 2000)', port('--port'))
      .option('--json', 'print one JSON object')
      .action(async (o) => {
        const cfg = settings()
        const { carlaInfo } = await import('./cli.ts')
        await carlaInfo({ host: o.host ?? cfg.host, port: o.port ?? cfg.port, json: o.json })
        setExitCode(0)
      })
    carla
      .command('record')
      .description('record one scenario shard (frames, KITTI and COCO labels, manifest) to --out; Ctrl-C restores the server')
      .option('--host <host>', "server host; 'embedded' starts carla-lite in-process (default: CARLA_HOST, else embedded)")
      .option('--port <port>', 'RPC port (default: CARLA_PORT, else 2000)', port('--port'))
      .option('--tm-port <port>', 'Traffic Manager port, the Python sidecar next to CARLA (default: CARLA_TM_PORT, else 8000)', port('--tm-port'))
      .requiredOption('--scenario <file>', 'scenario spec (JSON); rejected with the bad field named before anything is spawned')
      .requiredOption('--out <dir>', 'parent folder of the shard folder')
      .action(async (o) => {
        const cfg = settings()
        const { carlaRecord } = await import('./cli.ts')
        await carlaRecord({
          host: o.host ?? cfg.host,
          port: o.port ?? cfg.port,
          tmPort: o.tmPort ?? cfg.tmPort,
          scenarioFile: o.scenario,
          outDir: o.out,
        })
        setExitCode(0)
      })
    program
      .command('carla-lite')
      .description('run carla-lite, a procedural stand-in for CARLA 0.9.15 (not CARLA), until Ctrl-C')
      .option('--port <port>', 'RPC port; streams use port+1', port('--port'), 2000)
      .option('--tm-port <port>', 'Traffic Manager port', port('--tm-port'), 8000)
      .option('--host <host>', 'address to bind', '127.0.0.1')
      .action(async (o) => {
        const { runCarlaLite } = await import('./lite/index.ts')
        await runCarlaLite({ port: o.port, tmPort: o.tmPort, host: o.host })
        setExitCode(0)
      })
  },
})
