import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { forge as forgeWith } from '../../helpers/forge-cli.ts'

/** The real `forge` bin with this process's environment. */
const forge = (...args: string[]) => forgeWith(process.env as Record<string, string>, ...args)

/**
 * A shard folder is emptied before it is written, so a scenario named '..' once deleted the parent of --out. Each
 * bad name must be refused before anything happens: no server is reachable on port 1, so a name that got past
 * the check would fail later, with a connection error, after emptying its folder.
 */
describe('forge carla record refuses a scenario name that would leave --out', () => {
  it.each([['..'], ['../x'], ['a/b'], ['/tmp/forge-abs'], ['a\0b'], ['.']])('refuses %j, naming the field and the value', async (name) => {
    const parent = mkdtempSync(join(tmpdir(), 'forge-names-'))
    const out = join(parent, 'out')
    mkdirSync(out)
    writeFileSync(join(parent, 'keep.txt'), 'must survive')
    writeFileSync(join(out, 'keep.txt'), 'must survive')
    const scenario = join(parent, 'scenario.json')
    writeFileSync(scenario, JSON.stringify({ name, map: 'Town02', frames: 1, sensors: [{ name: 'rgb', blueprint: 'sensor.camera.rgb' }] }))
    const r = await forge('carla', 'record', '--host', '127.0.0.1', '--port', '1', '--scenario', scenario, '--out', out)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`scenario field 'name': scenario name ${JSON.stringify(name)}`)
    expect(r.stderr).not.toMatch(/ECONNREFUSED|connect/i)
    expect(readdirSync(parent).sort()).toEqual(['keep.txt', 'out', 'scenario.json'])
    expect(readdirSync(out)).toEqual(['keep.txt'])
  })
})
