/**
 * The pod override's merge (Airflow's pod_override semantics, kept simple): objects merge key by key, arrays of
 * named items (containers, volumes, env) merge by `name`, any other value in the override replaces the base's.
 */
type Json = unknown

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isNamedList(v: Json): v is Array<{ name: string }> {
  return Array.isArray(v) && v.length > 0 && v.every((x) => isObject(x) && typeof x.name === 'string')
}

export function deepMerge(base: Json, override: Json): Json {
  if (isObject(base) && isObject(override)) {
    const out: Record<string, Json> = { ...base }
    for (const [k, v] of Object.entries(override)) out[k] = k in base ? deepMerge(base[k], v) : v
    return out
  }
  if (isNamedList(base) && isNamedList(override)) {
    const out = base.map((item) => {
      const match = override.find((o) => o.name === item.name)
      return match ? deepMerge(item, match) : item
    })
    for (const o of override) if (!base.some((b) => b.name === o.name)) out.push(o)
    return out
  }
  return override === undefined ? base : override
}
