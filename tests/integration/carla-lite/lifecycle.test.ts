/**
 * Starting and stopping carla-lite: ephemeral port pairs, explicit ports, close() leaving nothing that keeps a
 * process alive, kill() dropping clients like a crash, and the CLI entry point stopping on SIGTERM.
 */
import { spawn } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startCarlaLite } from '../../../operators/carla/lite/index.ts'
import { RawRpc, RawStream } from './helpers/raw-client.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')

function runNode(script: string, opts: { killAfterMs?: number } = {}): Promise<{ code: number | null; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000)
    if (opts.killAfterMs) {
      // Wait for the readiness line, then send SIGTERM.
      child.stderr.on('data', () => {
        if (stderr.includes('is running')) setTimeout(() => child.kill('SIGTERM'), opts.killAfterMs)
      })
    }
    child.on('exit', (code) => {
      clearTimeout(guard)
      resolve({ code, stderr, ms: Date.now() - t0 })
    })
  })
}

const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port })
    s.once('connect', () => {
      s.destroy()
      resolve(false)
    })
    s.once('error', () => resolve(true))
  })

describe('carla-lite lifecycle', () => {
  it('binds ephemeral RPC/stream port pairs (P, P+1) for concurrent servers', async () => {
    const [a, b] = await Promise.all([startCarlaLite(), startCarlaLite({ port: 0 })])
    expect(a.streamPort).toBe(a.rpcPort + 1)
    expect(b.streamPort).toBe(b.rpcPort + 1)
    expect(new Set([a.rpcPort, a.streamPort, a.tmPort, b.rpcPort, b.streamPort, b.tmPort]).size).toBe(6)
    await Promise.all([a.close(), b.close()])
    expect(await refused(a.rpcPort)).toBe(true)
  })

  it('binds an explicit port and tm port, and reports a taken port', async () => {
    const probe = await startCarlaLite()
    const [port, tmPort] = [probe.rpcPort, probe.tmPort]
    await probe.close()
    const s = await startCarlaLite({ port, tmPort })
    expect([s.rpcPort, s.streamPort, s.tmPort]).toEqual([port, port + 1, tmPort])
    await expect(startCarlaLite({ port })).rejects.toThrow(/EADDRINUSE/)
    await s.close()
  })

  it('kill() drops every client without a goodbye, like a crash', async () => {
    const s = await startCarlaLite()
    const rpc = await RawRpc.connect(s.rpcPort)
    const world = await RawStream.connect(s.streamPort, 1)
    const closed = new Promise<void>((r) => rpc.socket.once('close', () => r()))
    s.kill()
    await closed
    for (let i = 0; i < 50 && !world.ended; i++) await new Promise((r) => setTimeout(r, 10))
    expect(world.ended).toBe(true)
    expect(await refused(s.rpcPort)).toBe(true)
    expect(await refused(s.tmPort)).toBe(true)
  })

  it('close() ends sockets and timers so a process running it exits on its own', async () => {
    const script = `
      import { startCarlaLite } from './operators/carla/lite/index.ts'
      import { RawRpc, RawStream } from './tests/integration/carla-lite/helpers/raw-client.ts'
      const s = await startCarlaLite()
      const rpc = await RawRpc.connect(s.rpcPort)
      const world = await RawStream.connect(s.streamPort, 1)
      await new Promise((r) => setTimeout(r, 200)) // async mode: the clock ticks and streams
      if (!world.messages.length) throw new Error('no world state while free-running')
      await s.close()
      process.stderr.write('closed\\n')
    `
    const r = await runNode(script)
    expect(r.stderr).toContain('closed')
    expect(r.code).toBe(0)
    expect(r.ms).toBeLessThan(15_000)
  })

  it('runCarlaLite serves until SIGTERM and says what it is', async () => {
    const probe = await startCarlaLite()
    const [port, tmPort] = [probe.rpcPort, probe.tmPort]
    await probe.close()
    const r = await runNode(
      `
      import { runCarlaLite } from './operators/carla/lite/index.ts'
      await runCarlaLite({ port: ${port}, tmPort: ${tmPort} })
    `,
      { killAfterMs: 100 },
    )
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('carla-lite, a procedural stand-in for CARLA 0.9.15')
    expect(r.stderr).toContain('SIGTERM')
  })
})
