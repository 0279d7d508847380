/** Through the real forge bin: a broken plugin costs one line on stderr; every other command still works. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { forge, forgeHome } from '../../helpers/forge-cli.ts'

describe('forge with a broken plugin', () => {
  it('prints one line naming the plugin and runs the CARLA and built-in commands as before', async () => {
    const { home, env } = forgeHome('forge-plugin-')
    const broken = join(home, 'broken.plugin.ts')
    writeFileSync(broken, `throw new Error('cannot start')\n`)
    env.FORGE_PLUGINS = broken
    const info = await forge(env, 'carla', 'info', '--json')
    expect(info.code, info.stderr).toBe(0)
    expect(JSON.parse(info.stdout)).toMatchObject({ version: '0.9.15', versionMatches: true })
    expect(info.stderr.trim().split('\n')).toEqual([`forge: plugin ${broken} not loaded: cannot start`])
    const help = await forge(env, '--help')
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/\n {2}carla-lite /)
    // A built-in command does not load plugins at all.
    const runs = await forge(env, 'runs', 'list', '--json')
    expect(runs.code).toBe(0)
    expect(runs.stderr).toBe('')
  }, 180_000)
})
