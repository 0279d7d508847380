import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Command } from 'commander'
import { loadPluginPaths } from '../config.ts'
import type { ForgePlugin, MainJob, PluginContext } from '../plugin.ts'

const PACKAGE_JSON = fileURLToPath(new URL('../../package.json', import.meta.url))
const ROOT = dirname(PACKAGE_JSON)

/** The bundled plugins (package.json `forge.plugins`, relative to it), then FORGE_PLUGINS; each file once. */
export function pluginPaths(env?: Record<string, string | undefined>): string[] {
  const pkg = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { forge?: { plugins?: unknown } }
  const bundled = Array.isArray(pkg.forge?.plugins) ? pkg.forge.plugins.filter((p): p is string => typeof p === 'string') : []
  return [...new Set([...bundled.map((p) => resolve(ROOT, p)), ...loadPluginPaths(env)])]
}

/** How an error names a plugin file: relative to the installation when it is inside it. */
export function shownPath(file: string): string {
  const rel = relative(ROOT, file)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file
}

/**
 * Imports each plugin and lets it register its commands. A plugin that fails to import, is not a plugin, throws
 * while registering or clashes with an existing command is reported in one line naming its file and left out;
 * every other command keeps working. Returns the main jobs the loaded plugins offer, in load order.
 */
export async function registerPlugins(program: Command, ctx: PluginContext, files: string[], report: (line: string) => void): Promise<MainJob[]> {
  const mainJobs: MainJob[] = []
  for (const file of files) {
    const fail = (why: unknown): void => report(`forge: plugin ${shownPath(file)} not loaded: ${firstLine(why)}`)
    let plugin: ForgePlugin
    try {
      const mod = (await import(pathToFileURL(file).href)) as { default?: unknown }
      plugin = asPlugin(mod.default)
    } catch (err) {
      fail(err)
      continue
    }
    // Commands go to a scratch program first, so a plugin that throws halfway leaves nothing behind.
    const scratch = new Command(program.name()).copyInheritedSettings(program)
    try {
      plugin.commands?.(scratch, ctx)
      const taken = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]))
      const clash = scratch.commands.find((c) => taken.has(c.name()))
      if (clash) throw new Error(`its command '${clash.name()}' is already defined`)
    } catch (err) {
      fail(err)
      continue
    }
    for (const c of [...scratch.commands]) program.addCommand(c)
    if (plugin.mainJob) mainJobs.push(plugin.mainJob)
  }
  return mainJobs
}

function asPlugin(value: unknown): ForgePlugin {
  const p = value as ForgePlugin | undefined
  if (!p || typeof p !== 'object' || typeof p.name !== 'string')
    throw new Error('its default export is not a plugin (use definePlugin({ name, commands, mainJob }))')
  return p
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  return text.split('\n')[0]!.trim() || (err instanceof Error ? err.name : 'unknown error')
}
