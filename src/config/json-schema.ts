// The published JSON Schema (config/psc-gateway.schema.json), for editors: the same TypeBox
// definitions that validate the file at load time. Regenerate with
//   npx tsx src/config/json-schema.ts > config/psc-gateway.schema.json
// (test/config/json-schema.test.ts fails when the committed file drifts).
import { ConfigSchema } from './schema.js'

export const CONFIG_SCHEMA_ID = 'https://github.com/psc-gateway/psc-gateway/config/psc-gateway.schema.json'

/** The configuration schema as a plain JSON Schema (draft 2020-12) object. */
export function configJsonSchema(): object {
  // JSON round trip: drops TypeBox's symbol keys ([Kind], [OptionalKind]).
  const plain = JSON.parse(JSON.stringify(ConfigSchema)) as Record<string, unknown>
  optionalWhenDefaulted(plain)
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: CONFIG_SCHEMA_ID,
    title: 'psc-gateway configuration',
    description: 'Configuration of psc-gateway, a Pro Santé Connect authentication gateway',
    ...plain,
  }
}

// TypeBox lists every non-Optional key as required; a key with a default may be left out of the
// file (load.ts applies defaults before validating), so an editor must not ask for it.
function optionalWhenDefaulted(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(optionalWhenDefaulted)
    return
  }
  if (typeof node !== 'object' || node === null) return
  const obj = node as Record<string, unknown>
  const props = obj.properties as Record<string, { default?: unknown }> | undefined
  if (props !== undefined && Array.isArray(obj.required)) {
    obj.required = (obj.required as string[]).filter((k) => props[k]?.default === undefined)
    if ((obj.required as string[]).length === 0) delete obj.required
  }
  for (const v of Object.values(obj)) optionalWhenDefaulted(v)
}

/** The exact text of config/psc-gateway.schema.json. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(configJsonSchemaText())
}
