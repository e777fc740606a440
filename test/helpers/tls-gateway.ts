// The configuration of a gateway that serves HTTPS itself (listen.tls), for the TLS tests of one
// process and of a cluster: PSC unreachable (never asked), one authenticated route.
export function tlsGatewayYaml(o: {
  port: number
  cert: string
  key: string
  redirectPort?: number
  /** lines added under listen.tls */
  extra?: string
  /** the top-level lines before the rest (workers: 2) */
  head?: string
}): string {
  return `${o.head ?? ''}
listen:
  host: 127.0.0.1
  port: ${o.port}
  tls:
    cert: ${o.cert}
    key: ${o.key}
${o.extra ?? ''}${o.redirectPort === undefined ? '' : `  httpRedirect: { port: ${o.redirectPort} }\n`}publicUrl: https://127.0.0.1:${o.port}
admin: { enabled: false }
psc:
  environment: custom
  issuer: http://127.0.0.1:9
  clientId: tls-test
  clientSecret: tls-test-client-secret-0123456789
  allowInsecureHttp: true
session:
  secrets: ["tls-test-session-secret-0123456789abcdef-AAAA"]
upstreams:
  app: { url: "http://127.0.0.1:9" }
routes:
  - name: application
    upstream: app
    access: authenticated
`
}
