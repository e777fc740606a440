// docs/configuration.md, generated from the JSON Schema: one row per key, with its type, default
// and description. Regenerate with `npm run docs:config`; test/docs/docs.test.ts fails
// when the committed page drifts from the schema.
import { configJsonSchema } from './json-schema.js'

interface Node {
  type?: string
  description?: string
  default?: unknown
  pattern?: string
  const?: unknown
  anyOf?: Node[]
  enum?: unknown[]
  properties?: Record<string, Node>
  patternProperties?: Record<string, Node>
  additionalProperties?: Node | boolean
  items?: Node
  required?: string[]
  minimum?: number
  maximum?: number
  minLength?: number
  minItems?: number
}

const DURATION = '^[0-9]+(ms|s|m|h|d)$'

function typeOf(n: Node): string {
  if (n.anyOf !== undefined) {
    if (n.anyOf.every((a) => a.const !== undefined)) return n.anyOf.map((a) => `\`${String(a.const)}\``).join(' | ')
    return n.anyOf.map(typeOf).join(' | ')
  }
  if (n.enum !== undefined) return n.enum.map((e) => `\`${String(e)}\``).join(' | ')
  if (n.const !== undefined) return `\`${String(n.const)}\``
  if (n.type === 'string' && n.pattern === DURATION) return 'duration'
  if (n.type === 'array') return `list of ${n.items ? typeOf(n.items) : 'values'}`
  if (n.type === 'object' && n.patternProperties !== undefined)
    return `map of ${typeOf(Object.values(n.patternProperties)[0]!)}`
  if (n.type === 'integer' && (n.minimum !== undefined || n.maximum !== undefined))
    return `integer${n.minimum !== undefined ? ` ≥ ${n.minimum}` : ''}${n.maximum !== undefined ? ` ≤ ${n.maximum}` : ''}`
  return n.type ?? 'value'
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

function rows(node: Node, path: string, required: boolean, out: string[]): void {
  const isObject = node.type === 'object' && node.properties !== undefined
  if (path !== '') {
    const dflt =
      node.default === undefined ||
      (typeof node.default === 'object' && node.default !== null && Object.keys(node.default).length === 0 && isObject)
        ? required
          ? '**required**'
          : ''
        : `\`${JSON.stringify(node.default)}\``
    const description = node.description ?? (node.items?.description !== undefined ? node.items.description : '')
    out.push(`| \`${path}\` | ${cell(isObject ? 'section' : typeOf(node))} | ${cell(dflt)} | ${cell(description)} |`)
  }
  if (isObject) {
    for (const [key, child] of Object.entries(node.properties!)) {
      if (key === '$schema') continue
      rows(child, path === '' ? key : `${path}.${key}`, node.required?.includes(key) ?? false, out)
    }
  }
  if (node.type === 'object' && node.patternProperties !== undefined) {
    const child = Object.values(node.patternProperties)[0]!
    if (child.type === 'object' && child.properties !== undefined)
      rows({ ...child, description: undefined, default: undefined }, `${path}.<name>`, false, out)
  }
  if (node.type === 'array' && node.items?.type === 'object' && node.items.properties !== undefined) {
    for (const [key, child] of Object.entries(node.items.properties))
      rows(child, `${path}[].${key}`, node.items.required?.includes(key) ?? false, out)
  }
}

export function configReferenceMarkdown(): string {
  const out: string[] = []
  rows(configJsonSchema() as Node, '', true, out)
  return `# Configuration reference

<!-- Generated from the JSON Schema by \`npm run docs:config\`: do not edit by hand. -->

One YAML file, checked by \`psc-gateway check --config FILE\` (and at start-up) against the JSON
Schema \`config/psc-gateway.schema.json\`; errors name the file, line and key. Any value may be
\`\${VAR}\` (from the environment), \`\${VAR:-default}\`, or come from a file named by \`VAR_FILE\` (a
Docker or Kubernetes secret). A first file: \`psc-gateway init --help\`. A commented example:
\`config/gateway.example.yaml\`. How the file is read, checked and converted, section by section (for
contributors who add a key): [config-sections.md](config-sections.md).

| key | type | default | description |
|---|---|---|---|
${out.join('\n')}
`
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href)
  process.stdout.write(configReferenceMarkdown())
