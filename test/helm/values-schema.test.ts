// The chart's values.schema.json checks `config` with the gateway's own JSON Schema: the copy must
// be exactly what scripts/helm-values-schema.ts makes of config/psc-gateway.schema.json (run
// `npm run schema && npm run schema:helm` after changing src/config/schema.ts).
import { readFileSync } from 'node:fs'
import t from 'tap'
import { chartConfigSchema, GATEWAY_SCHEMA, VALUES_SCHEMA, valuesSchemaText } from '../../scripts/helm-values-schema.js'

t.test('values.schema.json embeds the gateway schema for config, regenerated', async (t) => {
  const committed = readFileSync(VALUES_SCHEMA, 'utf8')
  t.equal(committed, valuesSchemaText(), 'in sync with config/psc-gateway.schema.json: run npm run schema:helm')
  const values = JSON.parse(committed) as { properties: { config: Record<string, unknown> } }
  const gateway = JSON.parse(readFileSync(GATEWAY_SCHEMA, 'utf8')) as {
    properties: Record<string, { required?: string[] }>
    required: string[]
  }
  const config = values.properties.config as {
    additionalProperties: boolean
    properties: Record<string, { required?: string[] }>
    required: string[]
  }
  t.equal(config.additionalProperties, false, 'an unknown key in config is refused (it used to be accepted)')
  t.same(Object.keys(config.properties).sort(), Object.keys(gateway.properties).sort(), 'every key the gateway knows')
  // What the chart fills in from the Secret is not asked of the values.
  t.notOk(config.required.includes('session'))
  t.notOk(config.properties.psc!.required!.includes('clientSecret'))
  t.notOk(config.properties.session!.required?.includes('secrets'))
  t.ok(config.required.includes('routes') && config.required.includes('upstreams'))
  t.same(chartConfigSchema(gateway as never).properties!.listen, gateway.properties.listen)
})
