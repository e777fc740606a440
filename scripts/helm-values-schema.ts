// Writes the gateway's own configuration schema (config/psc-gateway.schema.json) into the chart's
// values.schema.json as the schema of `config`, so that `helm install --set config.sesion...` is
// refused by Helm instead of crash-looping the pods. Run after `npm run schema`:
//   npm run schema:helm
// test/helm/values-schema.test.ts fails when the chart's copy drifts from the gateway's schema.
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const GATEWAY_SCHEMA = join(ROOT, 'config', 'psc-gateway.schema.json')
export const VALUES_SCHEMA = join(ROOT, 'helm', 'psc-gateway', 'values.schema.json')

type Node = Record<string, unknown> & { properties?: Record<string, Node>; required?: string[] }

function withoutRequired(node: Node | undefined, keys: string[]): void {
  if (!node?.required) return
  node.required = node.required.filter((k) => !keys.includes(k))
  if (node.required.length === 0) delete node.required
}

/** The gateway schema as the chart's `config`: what the chart fills in is not required of values. */
export function chartConfigSchema(gateway: Node): Node {
  const config = structuredClone(gateway)
  for (const k of ['$schema', '$id', 'title']) delete config[k]
  config.description =
    "The gateway configuration, checked against the gateway's own schema (config/psc-gateway.schema.json). The chart sets listen and admin, and psc.clientSecret, session.secrets, session.store.url, audit.hmacKey as ${VAR} references to the Secret."
  const props = config.properties!
  // session.secrets and psc.clientSecret come from the Secret; listen/admin are the pod's ports.
  withoutRequired(config, ['session'])
  withoutRequired(props.session, ['secrets'])
  withoutRequired(props.psc, ['clientSecret'])
  // An empty publicUrl (the chart's default) gets the chart's own message ("config.publicUrl is
  // required"), not a pattern mismatch.
  props.publicUrl = { anyOf: [{ const: '' }, props.publicUrl!] }
  return config
}

export function valuesSchemaText(): string {
  const values = JSON.parse(readFileSync(VALUES_SCHEMA, 'utf8')) as Node
  const gateway = JSON.parse(readFileSync(GATEWAY_SCHEMA, 'utf8')) as Node
  values.properties!.config = chartConfigSchema(gateway)
  return `${JSON.stringify(values, null, 2)}\n`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(VALUES_SCHEMA, valuesSchemaText())
  process.stdout.write(`${VALUES_SCHEMA} updated from ${GATEWAY_SCHEMA}\n`)
}
