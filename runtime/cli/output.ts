/** JSON for scripts: one document on stdout, dates as ISO strings. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

export function iso(d: Date | null | undefined): string | null {
  return d ? new Date(d).toISOString() : null
}

/** A plain text table: columns padded to their widest cell. */
export function printTable(headers: string[], rows: Array<Array<string | number | null>>): void {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)))
  for (const r of cells)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
}
