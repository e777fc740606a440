// The configuration most config tests start from, and helpers to load it and read its issues.
import { ConfigError, type ConfigIssue } from '../../src/config/config-error.js'
import { loadConfigText } from '../../src/config/load.js'

export const SECRET = 'x'.repeat(40)
export const SECRET2 = 'y'.repeat(40)
export const CLIENT_SECRET = 'Sup3r-S3cret-Client-Value'
export const ENV = { PSC_CLIENT_SECRET: CLIENT_SECRET, SESSION_SECRET: SECRET }

// line numbers in the tests below refer to this text (1-based)
export const BASE = `publicUrl: https://dpi.example.fr
psc:
  environment: bas
  clientId: my-client
  clientSecret: \${PSC_CLIENT_SECRET}
session:
  secrets:
    - \${SESSION_SECRET}
upstreams:
  dpi:
    url: http://dpi.internal:8080
routes:
  - name: admin
    match:
      pathPrefix: /admin
    upstream: dpi
    access:
      professions: ["10"]
  - name: all
    upstream: dpi
    access: authenticated
`

export function load(text: string, env: Record<string, string | undefined> = ENV) {
  return loadConfigText(text, 'config/gateway.yaml', env)
}

export function issuesOf(text: string, env: Record<string, string | undefined> = ENV): ConfigIssue[] {
  try {
    load(text, env)
  } catch (err) {
    if (err instanceof ConfigError) return err.issues
    throw err
  }
  throw new Error('expected a ConfigError')
}

export function brief(issues: ConfigIssue[]): string[] {
  return issues.map((i) => `${i.line ?? '-'}:${i.path}: ${i.message}`)
}
