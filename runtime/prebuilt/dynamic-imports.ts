/**
 * Finds the dynamic imports a bundle would change the meaning of. esbuild compiles `import('literal')` (it follows
 * it into the build), but leaves `import(expression)` as it is, to be resolved against the bundle's cache folder
 * instead of the source file: a relative path that worked under tsx would then name a file that is not there, and
 * a TypeScript file could not load at all. Comments and strings may give false alarms, which only cost a fallback.
 */
const IMPORT_CALL = /(?<![.\w$])import\s*\(\s*/g
const LITERAL = /^(?:'[^'\n]*'|"[^"\n]*"|`[^`$]*`)\s*[,)]/

/** The first dynamic import in `source` whose specifier is not a string literal, as its source text, or null. */
export function computedDynamicImport(source: string): string | null {
  for (const m of source.matchAll(IMPORT_CALL)) {
    const rest = source.slice(m.index + m[0].length)
    if (!LITERAL.test(rest)) return source.slice(m.index, m.index + m[0].length + Math.min(40, rest.indexOf(')') + 1 || 40))
  }
  return null
}
