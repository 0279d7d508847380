import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FORGE, forge as forgeWith } from '../../helpers/forge-cli.ts'

/** The real `forge` bin with this process's environment. */
const forge = (...args: string[]) => forgeWith(process.env as Record<string, string>, ...args)

describe('forge carla commands against a `forge carla-lite` process', () => {
  it('reports the server, records a shard, and refuses a bad scenario naming the field', async () => {
    const lite = spawn(process.execPath, [FORGE, 'carla-lite', '--port', '23400', '--tm-port', '23410'], { stdio: ['ignore', 'ignore', 'pipe'] })
    try {
      await new Promise<void>((resolve, reject) => {
        lite.stderr.on('data', (b: Buffer) => b.toString().includes('is running') && resolve())
        lite.on('exit', (code) => reject(new Error(`carla-lite exited ${code}`)))
      })
      const info = await forge('carla', 'info', '--host', '127.0.0.1', '--port', '23400', '--json')
      expect(info.code).toBe(0)
      const parsed = JSON.parse(info.stdout)
      expect(parsed).toMatchObject({ version: '0.9.15', versionMatches: true, blueprints: expect.any(Number) })
      expect(parsed.maps).toContain('/Game/Carla/Maps/Town02')

      const dir = mkdtempSync(join(tmpdir(), 'forge-rec-'))
      const scenario = join(dir, 'scenario.json')
      writeFileSync(
        scenario,
        JSON.stringify({
          map: 'Town02',
          frames: 3,
          npcs: { vehicles: 2 },
          sensors: [{ name: 'rgb', blueprint: 'sensor.camera.rgb', attributes: { image_size_x: 160, image_size_y: 120 } }],
        }),
      )
      const rec = await forge('carla', 'record', '--host', '127.0.0.1', '--port', '23400', '--tm-port', '23410', '--scenario', scenario, '--out', dir)
      expect(rec.code).toBe(0)
      const result = JSON.parse(rec.stdout.trim().split('\n').at(-1)!)
      expect(result).toMatchObject({ shard: 'Town02__ClearNoon__seed0', frames: 3 })
      expect(JSON.parse(readFileSync(join(result.dir, 'manifest.json'), 'utf8'))).toBeTruthy()

      writeFileSync(
        scenario,
        JSON.stringify({ map: 'Town02', frames: 3, fixedDelta: 0.5, sensors: [{ name: 'rgb', blueprint: 'sensor.camera.rgb' }] }),
      )
      const bad = await forge('carla', 'record', '--host', '127.0.0.1', '--port', '23400', '--scenario', scenario, '--out', dir)
      expect(bad.code).toBe(2)
      expect(bad.stderr).toContain("scenario field 'fixedDelta'")
    } finally {
      lite.kill('SIGTERM')
    }
  }, 180_000)
})
