#!/usr/bin/env node
// The `forge` command. DAG files and the runtime are TypeScript loaded at run time: register tsx's loader
// first (Node 20 has no type stripping), then hand over to the TypeScript CLI.
import { register } from 'tsx/esm/api'
import { register as registerCjs } from 'tsx/cjs/api'

// Both hooks: a DAG file outside a "type": "module" package is loaded as CommonJS.
register()
registerCjs()
const { main } = await import('./main.ts')
process.exitCode = await main(process.argv.slice(2))
