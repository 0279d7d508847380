#!/usr/bin/env node
// The `forge` command. DAG files and the runtime are TypeScript loaded at run time: register the loader first
// (tsx, since Node 20 has no type stripping, and `adas-forge` resolved to this installation), then hand over to
// the TypeScript CLI.
import '../loader.mjs'

const { main } = await import('./main.ts')
process.exitCode = await main(process.argv.slice(2))
