/**
 * `forge dvc add PATH [--repo DIR] [--remote URL] [--source DIR] [--dataset NAME]`, as a function plus the commander
 * registration the main CLI calls. Results go to stdout (JSON with --json), notices to stderr; failures are
 * thrown (DvcError with a `reason`) for the caller to turn into an exit code.
 */
import path from 'node:path'
import type { Command } from 'commander'
import { versionDataset, type DatasetVersion, type DvcEnv } from './version-dataset.ts'

export interface DvcAddArgs {
  path: string
  /** The registry repository (default: the current directory). */
  repo?: string
  remote?: string
  remoteName?: string
  /** Read the data from here instead of PATH (which must not exist): like `dvc add SOURCE --out PATH`. */
  source?: string
  dataset?: string
  engine?: 'auto' | 'native'
  json?: boolean
  /** Resolves a relative PATH and --repo (default: the process's working directory). */
  cwd?: string
  print?: (line: string) => void
  notice?: (line: string) => void
  /** Rewrite one progress line (a terminal) rather than log every tenth (default: whether stderr is a TTY). */
  tty?: boolean
  env?: Pick<DvcEnv, 'remoteStore' | 'dvcAvailable'>
}

export async function dvcAddCommand(args: DvcAddArgs): Promise<DatasetVersion> {
  const cwd = args.cwd ?? process.cwd()
  const print = args.print ?? ((l: string) => void process.stdout.write(l + '\n'))
  const notice = args.notice ?? ((l: string) => void process.stderr.write(l + '\n'))
  const repo = path.resolve(cwd, args.repo ?? '.')
  const result = await versionDataset(
    {
      repo,
      path: path.resolve(cwd, args.path),
      source: args.source ? path.resolve(cwd, args.source) : undefined,
      dataset: args.dataset,
      remote: args.remote
        ? {
            url: path.isAbsolute(args.remote) || /^[a-z][a-z0-9+.-]*:\/\//.test(args.remote) ? args.remote : path.resolve(cwd, args.remote),
            name: args.remoteName ?? 'storage',
          }
        : undefined,
      engine: args.engine ?? 'auto',
    },
    {
      ...args.env,
      log: (m, f) => notice(f ? `${m} ${JSON.stringify(f)}` : m),
      progress: progressReporter(args.tty ?? process.stderr.isTTY === true, notice),
    },
  )
  if (args.json) print(JSON.stringify(result))
  else {
    print(`${result.dvcFile}  ${result.md5}  ${result.nfiles ?? 1} files  ${result.size} bytes`)
    if (result.tag) print(`${result.tag}  ${result.commit}${result.created ? '' : '  (unchanged)'}`)
  }
  return result
}

/** Hashing and pushing progress: one rewritten line on a terminal, a line per tenth otherwise. */
export function progressReporter(tty: boolean, notice: (line: string) => void): (done: number, total: number | null, unit: string) => void {
  const lastTenth = new Map<string, number>()
  return (done, total, unit) => {
    if (tty) {
      process.stderr.write(`\r${done}/${total ?? '?'} ${unit}${done === total ? '\n' : ''}`)
      return
    }
    const tenth = total ? Math.floor((done * 10) / total) : done
    if (lastTenth.get(unit) === tenth) return
    lastTenth.set(unit, tenth)
    notice(`${done}/${total ?? '?'} ${unit}`)
  }
}

export function registerDvcCommands(program: Command): Command {
  const dvc = program.command('dvc').description('version datasets in a DVC registry repository')
  dvc
    .command('add')
    .argument('<path>', 'file or folder inside the repository')
    .option('--repo <dir>', 'the dataset-registry git repository', '.')
    .option('--remote <url>', 'push to this remote (a folder or s3://bucket/prefix)')
    .option('--remote-name <name>', "the remote's name in .dvc/config", 'storage')
    .option('--source <dir>', 'read the data from DIR and track it as PATH (the workspace stays empty)')
    .option('--dataset <name>', 'commit and tag NAME@vN once pushed')
    .option('--native', 'use the built-in writer even when dvc is on PATH')
    .option('--json', 'print the result as JSON')
    .description('track PATH as DVC does (cache, .dvc file, .gitignore), push, and optionally tag a version')
    .action(
      async (
        p: string,
        o: { repo: string; remote?: string; remoteName: string; source?: string; dataset?: string; native?: boolean; json?: boolean },
      ) => {
        await dvcAddCommand({
          path: p,
          repo: o.repo,
          remote: o.remote,
          remoteName: o.remoteName,
          source: o.source,
          dataset: o.dataset,
          engine: o.native ? 'native' : 'auto',
          json: o.json,
        })
      },
    )
  return dvc
}
