// An upstream that decodes percent-encoding twice (upstreams.<name>.decodesTwice), over real HTTP:
// a path carrying "%252e%252e" (".." once it decodes twice) is refused with 400, its code and the
// French page, and never reaches it; another upstream still gets such paths as they are.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { AuditEvent } from '../../src/audit/events.js'
import { loadConfigText } from '../../src/config/load.js'
import { buildGateway, type Gateway } from '../../src/gateway.js'
import { rawGet } from '../helpers/raw-http.js'
import { CLIENT_ID, SESSION_SECRET } from '../helpers/stack.js'

let upstream: Server
let gateway: Gateway
let url: string
const received: string[] = []
const audit: AuditEvent[] = []

t.before(async () => {
  upstream = createServer((req, res) => {
    received.push(req.url ?? '')
    res.end('ok')
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
  const yaml = `
listen: { host: 127.0.0.1, port: 0 }
publicUrl: http://127.0.0.1:8080
admin: { enabled: false }
psc: { environment: custom, issuer: "http://127.0.0.1:9", clientId: ${CLIENT_ID}, clientSecret: s, allowInsecureHttp: true }
session: { secrets: ["${SESSION_SECRET}"] }
upstreams:
  legacy: { url: "${upstreamUrl}/legacy", decodesTwice: true }
  modern: { url: "${upstreamUrl}/modern" }
routes:
  - { name: legacy, match: { pathPrefix: /iis }, upstream: legacy, access: public }
  - { name: modern, upstream: modern, access: public }
`
  const { config } = loadConfigText(yaml, 'double-decoding.yaml', {})
  gateway = await buildGateway(config, {
    audit: { write: (e) => void audit.push(JSON.parse(JSON.stringify(e)) as AuditEvent) },
    logStream: { write() {} } as never,
  })
  url = (await gateway.listen()).url
})
t.teardown(async () => {
  await gateway?.close()
  await new Promise((resolve) => upstream?.close(resolve))
})

t.test('encoded dots, slashes and percent signs are refused for the upstream that decodes twice', async (t) => {
  for (const path of [
    '/iis/docs/%252e%252e/admin.aspx',
    '/iis/%252E%252E%252Fweb.config',
    '/iis/a%255cb',
    '/iis/a%25252e',
  ]) {
    const { response } = await rawGet(url, path, ['Accept: text/html', 'Accept-Language: fr'])
    t.equal(response?.status, 400, path)
    t.match(response?.body, /caractères encodés deux fois/, 'the French page says why')
    t.notMatch(response?.body, /PSC_ERR_|decodesTwice/, 'no technical detail on the page')
  }
  const english = await rawGet(url, '/iis/%252e', ['Accept-Language: en', 'Accept: text/html'])
  t.match(english.response?.body, /characters encoded twice/)
  t.same(
    received.filter((r) => r.startsWith('/legacy')),
    [],
    'none of them reached the upstream',
  )
  const refused = audit.filter((e) => e.event === 'access' && e.reason === 'PSC_ERR_DOUBLE_ENCODED_TARGET')
  t.equal(refused.length, 5, 'each refusal audited with its code')
  t.match(refused[0], { decision: 'reject', route: 'legacy' })
})

t.test('what it decodes once, and other upstreams, are forwarded as before', async (t) => {
  t.equal(
    (await rawGet(url, '/iis/rapport%20final/100%25')).response?.status,
    200,
    'a real percent sign is not an attack',
  )
  t.equal(
    (await rawGet(url, '/autre/%252e%252e/x')).response?.status,
    200,
    'an upstream without decodesTwice gets the path as it is',
  )
  t.ok(received.includes('/modern/autre/%252e%252e/x'))
  t.ok(received.includes('/legacy/iis/rapport%20final/100%25'))
})
