import t from 'tap'
import { readFileSync } from 'node:fs'
import { configJsonSchema, configJsonSchemaText } from '../../src/config/json-schema.js'

t.test('the committed JSON Schema is the generated one', async (t) => {
  const committed = readFileSync(new URL('../../config/psc-gateway.schema.json', import.meta.url), 'utf8')
  t.equal(
    committed,
    configJsonSchemaText(),
    'config/psc-gateway.schema.json is stale: run `npx tsx src/config/json-schema.ts > config/psc-gateway.schema.json`',
  )
})

t.test('shape', async (t) => {
  const schema = configJsonSchema() as Record<string, any>
  t.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema')
  t.type(schema.$id, 'string')
  t.equal(schema.title, 'psc-gateway configuration')
  t.same(
    schema.required,
    ['publicUrl', 'psc', 'session', 'upstreams', 'routes'],
    'keys with defaults are optional for editors',
  )
  // clientSecret is required by the loader unless clientAuth is tls_client_auth (a certificate instead)
  t.same(schema.properties.psc.required, ['environment', 'clientId'])
  t.notOk(JSON.stringify(schema).includes('"[Kind]"'))
})

t.test('the example file points at the schema', async (t) => {
  const example = readFileSync(new URL('../../config/gateway.example.yaml', import.meta.url), 'utf8')
  t.match(example.split('\n')[0], '# yaml-language-server: $schema=./psc-gateway.schema.json')
})
