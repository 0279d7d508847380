// The loader every process that imports DAG files starts with (`node --import <this file>`, or imported first):
// tsx for TypeScript, then `adas-forge` and `adas-forge/*` resolved to this installation, so a DAG file in a folder
// that never installed the package imports the same runtime the process is running (docs/packaging.md §2).
import Module, { register } from 'node:module'
import { register as registerTsx } from 'tsx/esm/api'
import { register as registerTsxCjs } from 'tsx/cjs/api'

const SELF = new URL('../package.json', import.meta.url)

// Both tsx hooks: a DAG file outside a "type": "module" package is loaded as CommonJS.
registerTsx()
registerTsxCjs()
// Registered last, so it runs first and hands tsx a specifier already pointed at this installation.
register('./self-resolve-hooks.mjs', import.meta.url, { data: { self: SELF.href } })

// CommonJS has no resolve hook on Node 20: wrap the resolver the same way (require of a .ts DAG file).
const selfParent = { id: SELF.pathname, filename: SELF.pathname, paths: Module._nodeModulePaths(new URL('.', SELF).pathname) }
const resolveFilename = Module._resolveFilename
Module._resolveFilename = function (request, parent, isMain, options) {
  const ours = request === 'adas-forge' || request.startsWith('adas-forge/')
  return resolveFilename.call(this, request, ours ? selfParent : parent, isMain, options)
}
