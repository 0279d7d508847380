/**
 * Starts carla-lite, the procedural stand-in server (not CARLA), in-process on ephemeral ports. It is imported
 * lazily so that shards against a real server never load it.
 */

export interface EmbeddedServer {
  rpcPort: number
  streamPort: number
  tmPort: number
  close(): Promise<void>
  /** carla-lite's "crash": every socket destroyed at once (tests use it to kill a server mid-shard). */
  kill?(): void
}

interface LiteModule {
  startCarlaLite(opts: { port?: number; host?: string }): Promise<EmbeddedServer>
}

export async function startEmbeddedServer(host = '127.0.0.1'): Promise<EmbeddedServer> {
  let mod: LiteModule
  try {
    // A literal specifier, so a bundle (the prebuilt runner's) carries carla-lite as a chunk loaded only here.
    mod = (await import('../lite/index.ts')) as LiteModule
  } catch (err) {
    throw new Error(`host 'embedded' needs carla-lite (operators/carla/lite/index.ts), which failed to load: ${(err as Error).message}`, {
      cause: err,
    })
  }
  if (typeof mod.startCarlaLite !== 'function') throw new Error('operators/carla/lite/index.ts does not export startCarlaLite')
  return mod.startCarlaLite({ port: 0, host })
}
