/**
 * The CARLA operator's configuration slice: where the server is and how the client behaves when a mapped element
 * or a command line does not say. runtime/config.ts reads these variables; nothing here touches process.env.
 */
import { z, type ConfigSlice } from '../../runtime/operator.ts'

const port = z.coerce.number().int().min(1).max(65_535)

export const carlaConfig = {
  schema: z.object({
    /** 'embedded' starts carla-lite, the procedural stand-in, in-process. */
    host: z.string().min(1).default('embedded'),
    port: port.default(2000),
    /** The Traffic Manager (a sidecar next to real CARLA; carla-lite reports its own). */
    tmPort: port.default(8000),
    rpcTimeoutMs: z.coerce.number().int().min(1).default(5000),
    /** Writer threads per shard (default: cores, at most 4). */
    writers: z.coerce.number().int().min(1).max(64).optional(),
    /** Parent folder of the shard folders. */
    outDir: z.string().min(1).default('datasets/carla'),
  }),
  env: {
    host: 'CARLA_HOST',
    port: 'CARLA_PORT',
    tmPort: 'CARLA_TM_PORT',
    rpcTimeoutMs: 'CARLA_RPC_TIMEOUT_MS',
    writers: 'CARLA_WRITERS',
    outDir: 'CARLA_OUT_DIR',
  },
} satisfies ConfigSlice

export type CarlaConfig = z.output<typeof carlaConfig.schema>
