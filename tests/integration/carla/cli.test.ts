import { afterEach, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { carlaInfo, carlaRecord } from '../../../operators/carla/cli.ts'
import { ScenarioError } from '../../../operators/carla/scenario.ts'
import { FakeCarlaServer } from './helpers/fake-carla-server.ts'
import { smallScenario, tempDir } from './helpers/shard.ts'

let server: FakeCarlaServer | null = null
afterEach(async () => {
  await server?.close()
  server = null
})

describe('forge carla info / record functions', () => {
  it('carlaInfo prints version, map, maps and blueprint count (text and JSON)', async () => {
    server = await new FakeCarlaServer().start()
    const lines: string[] = []
    const info = await carlaInfo({ host: '127.0.0.1', port: server.rpcPort, print: (l) => lines.push(l) })
    expect(info).toMatchObject({ version: '0.9.15', versionMatches: true, map: 'Town10HD_Opt', blueprints: 6 })
    expect(lines.join('\n')).toMatch(/version\s+0\.9\.15\nmap\s+Town10HD_Opt\nmaps\s+Town01, Town10HD_Opt\nblueprints 6/)
    const json: string[] = []
    await carlaInfo({ host: '127.0.0.1', port: server.rpcPort, json: true, print: (l) => json.push(l) })
    expect(JSON.parse(json[0]!)).toMatchObject({ port: server.rpcPort, maps: ['/Game/Carla/Maps/Town01', '/Game/Carla/Maps/Town10HD_Opt'] })
  })

  it('carlaInfo against nothing throws a connection error', async () => {
    await expect(carlaInfo({ host: '127.0.0.1', port: 1, print: () => {} })).rejects.toMatchObject({ code: 'carla_connection' })
  })

  it('carlaRecord records a shard from a scenario file and prints the result as JSON', async () => {
    server = await new FakeCarlaServer().start()
    const dir = await tempDir()
    const file = path.join(dir, 'scenario.json')
    await writeFile(file, JSON.stringify(smallScenario({ frames: 3 })))
    const lines: string[] = []
    const res = await carlaRecord({
      host: '127.0.0.1',
      port: server.rpcPort,
      tmPort: 1,
      scenarioFile: file,
      outDir: dir,
      print: (l) => lines.push(l),
      signal: new AbortController().signal,
    })
    expect(res.frames).toBe(3)
    expect(JSON.parse(lines[0]!)).toEqual(res)
  })

  it('carlaRecord rejects an unreadable or invalid scenario file with ScenarioError', async () => {
    const dir = await tempDir()
    await writeFile(path.join(dir, 'bad.json'), '{ not json')
    await expect(carlaRecord({ scenarioFile: path.join(dir, 'bad.json'), print: () => {} })).rejects.toBeInstanceOf(ScenarioError)
    await writeFile(path.join(dir, 'bad2.json'), JSON.stringify({ map: 'Town01' }))
    await expect(carlaRecord({ scenarioFile: path.join(dir, 'bad2.json'), print: () => {} })).rejects.toMatchObject({ field: 'sensors' })
  })
})
