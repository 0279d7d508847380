// Module resolve hook (runs on Node's loader thread): `adas-forge` and `adas-forge/*` resolve as if imported from
// inside this installation, through its package.json `exports` (a self-reference), wherever the importer lives.
let self = null

export function initialize(data) {
  self = data.self
}

export function resolve(specifier, context, nextResolve) {
  if (self && (specifier === 'adas-forge' || specifier.startsWith('adas-forge/'))) {
    return nextResolve(specifier, { ...context, parentURL: self })
  }
  return nextResolve(specifier, context)
}
