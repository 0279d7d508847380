/** Plugins register their own commands and main job; a broken one is reported in one line and left out. */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { pluginPaths, registerPlugins } from '../../../runtime/cli/plugins.ts'

const OPERATOR = fileURLToPath(new URL('../../../runtime/operator.ts', import.meta.url))
const CARLA = fileURLToPath(new URL('../../../operators/carla/plugin.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'forge-plugins-'))

function plugin(name: string, body: string): string {
  const file = join(dir, `${name}.ts`)
  writeFileSync(file, `import { definePlugin } from '${OPERATOR}'\n${body}\n`)
  return file
}

function program(): Command {
  const p = new Command('forge').exitOverride()
  p.command('runs').description('built in')
  return p
}

describe('registerPlugins', () => {
  it('the bundled CARLA plugin registers its commands and offers the main job', async () => {
    const p = program()
    const lines: string[] = []
    const jobs = await registerPlugins(p, { setExitCode: () => {} }, [CARLA], (l) => lines.push(l))
    expect(lines).toEqual([])
    expect(p.commands.map((c) => c.name())).toEqual(['runs', 'carla', 'carla-lite'])
    expect(p.commands[1]!.commands.map((c) => c.name())).toEqual(['info', 'record'])
    expect(jobs).toEqual([
      {
        dagId: 'carla_nightly_dataset',
        summaryKeys: ['frames', 'labels', 'shards', 'bytes', 'files', 'augmentedFrames', 'augmentedLabels', 'dataset', 'md5', 's3', 'mlflow'],
      },
    ])
    expect(pluginPaths({})).toContain(CARLA)
  })

  it('reports each broken plugin in one line naming its file, and keeps the others', async () => {
    const good = plugin(
      'good',
      `export default definePlugin({ name: 'good', mainJob: { dagId: 'good_dag' }, commands(p, ctx) { p.command('hello').action(() => ctx.setExitCode(7)) } })`,
    )
    const throwsAtImport = plugin('import-throws', `throw new Error('no such SDK\\nsecond line')`)
    const notAPlugin = plugin('not-a-plugin', `export default 42`)
    const halfway = plugin(
      'halfway',
      `export default definePlugin({ name: 'halfway', commands(p) { p.command('half'); throw new Error('registration failed') } })`,
    )
    const clash = plugin('clash', `export default definePlugin({ name: 'clash', commands(p) { p.command('runs') } })`)
    const missing = join(dir, 'missing.ts')
    const p = program()
    const lines: string[] = []
    let code = 0
    const jobs = await registerPlugins(p, { setExitCode: (c) => void (code = c) }, [throwsAtImport, notAPlugin, halfway, clash, missing, good], (l) =>
      lines.push(l),
    )
    expect(lines).toEqual([
      `forge: plugin ${throwsAtImport} not loaded: no such SDK`,
      `forge: plugin ${notAPlugin} not loaded: its default export is not a plugin (use definePlugin({ name, commands, mainJob }))`,
      `forge: plugin ${halfway} not loaded: registration failed`,
      `forge: plugin ${clash} not loaded: its command 'runs' is already defined`,
      expect.stringMatching(new RegExp(`^forge: plugin ${missing} not loaded: Cannot find module`)),
    ])
    expect(p.commands.map((c) => c.name())).toEqual(['runs', 'hello'])
    expect(jobs).toEqual([{ dagId: 'good_dag' }])
    await p.parseAsync(['hello'], { from: 'user' })
    expect(code).toBe(7)
  })

  it('FORGE_PLUGINS adds plugins after the bundled ones, each file once', () => {
    const paths = pluginPaths({ FORGE_PLUGINS: ` ${dir}/a.ts, ,${CARLA}` })
    expect(paths.filter((p) => p === CARLA)).toHaveLength(1)
    expect(paths.at(-1)).toBe(join(dir, 'a.ts'))
    expect(paths.indexOf(CARLA)).toBeLessThan(paths.length - 1)
  })
})
