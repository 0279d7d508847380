import type { Command } from 'commander'

/** What the `forge` command gives a plugin's `commands`. */
export interface PluginContext {
  /** The exit code `forge` ends with once the command's action has finished (default 0). */
  setExitCode(code: number): void
}

/** The DAG `forge main` (and `npm start`) runs once on embedded defaults, ending in a summary. */
export interface MainJob {
  /** Must load from the DAG folder; when several plugins name one, the first that loads wins. */
  dagId: string
  /** Keys of the DAG's `summary` task result printed first, in this order; the others follow. */
  summaryKeys?: string[]
}

/**
 * A plugin adds `forge` subcommands and optionally the main job. The `forge` command imports the plugins named in
 * package.json (`"forge": {"plugins": [...]}`) and in FORGE_PLUGINS at start, so a plugin module should import its
 * heavy code inside the command actions.
 */
export interface ForgePlugin {
  /** Shown in errors: 'carla'. */
  name: string
  /** Registers subcommands on the `forge` program (commander). Throwing here disables this plugin only. */
  commands?(program: Command, ctx: PluginContext): void
  mainJob?: MainJob
}

/** Checks a plugin's shape where it is written: a plugin module's default export is `definePlugin({...})`. */
export function definePlugin(plugin: ForgePlugin): ForgePlugin {
  if (!plugin || typeof plugin.name !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(plugin.name)) {
    throw new TypeError(`plugin name ${JSON.stringify(plugin?.name)} is invalid: lowercase letters, digits, _ and -`)
  }
  if (plugin.commands !== undefined && typeof plugin.commands !== 'function')
    throw new TypeError(`plugin ${plugin.name}: commands must be a function`)
  if (plugin.mainJob !== undefined && typeof plugin.mainJob?.dagId !== 'string')
    throw new TypeError(`plugin ${plugin.name}: mainJob.dagId must be a DAG id`)
  return Object.freeze({ ...plugin })
}
