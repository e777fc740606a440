// Unknown fields in a Kubernetes object, found with the kubernetes-models validators themselves.
// Their compiled schemas check the type of every field they know but say nothing of a field they
// do not know (no additionalProperties: false), so a misspelled `resurces` passed, while the API
// server refuses it (kubectl's strict field validation) or silently drops it (Helm 3 install).
// The validator reads every property its schema names, and every key of a map
// (additionalProperties: {...}): run it on a copy whose objects record what is read, and a key it
// never read is a key the schema does not have. A free-form object (x-kubernetes-preserve-unknown-
// fields) would be reported too: the chart renders none, and being told is the safe side.

interface Watched {
  path: string
  keys: string[]
  read: Set<string>
}

function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

/** a deep copy of value whose plain objects are proxies recording the keys read, in `seen` */
function watch(value: unknown, path: string, seen: Watched[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => watch(v, `${path}[${i}]`, seen))
  if (value === null || typeof value !== 'object') return value
  const copy = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, watch(v, child(path, k), seen)]))
  const record: Watched = { path, keys: Object.keys(copy), read: new Set() }
  seen.push(record)
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === 'string') record.read.add(key)
      return Reflect.get(target, key, receiver) as unknown
    },
    has(target, key) {
      if (typeof key === 'string') record.read.add(key)
      return Reflect.has(target, key)
    },
  })
}

/**
 * Runs `validate` (a kubernetes-models validation, throwing on a wrong type or a missing field) on
 * a watched copy of `object`. `unknown`: the paths of the fields it never looked at, e.g.
 * `spec.template.spec.containers[0].resurces`; `error`: the validation's own message, if any.
 */
export function unknownFields(
  object: unknown,
  validate: (watched: unknown) => void,
): { unknown: string[]; error?: string } {
  const seen: Watched[] = []
  const watched = watch(object, '', seen)
  let error: string | undefined
  try {
    validate(watched)
  } catch (err) {
    error = (err as Error).message
  }
  const all = seen.flatMap((w) => w.keys.filter((k) => !w.read.has(k)).map((k) => child(w.path, k)))
  // Inside an unknown field nothing is read: name the outermost one only.
  const unknown = all.filter((p) => !all.some((q) => p.startsWith(`${q}.`) || p.startsWith(`${q}[`))).sort()
  return error === undefined ? { unknown } : { unknown, error }
}
