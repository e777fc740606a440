// The per-request cost of the signed identity assertion: one signature (EdDSA, ES256), and a
// request served from the reuse cache (same session and upstream within half the ttl).
// npx tsx bench/assertion-sign.ts
import { generateKeyPairSync } from 'node:crypto'
import type { GatewayConfig, UpstreamSettings } from '../src/config/types.js'
import { FIRST_EXERCICE } from '../src/policy/exercice-in-context.js'
import { AssertionIssuer } from '../src/proxy/identity-assertion.js'
import type { Identity } from '../src/psc/identity.js'

const identity = {
  sub: 'f:550dc1c8:899700218896',
  idNat: '899700218896',
  rpps: '10000000001',
  familyName: 'Lefèvre',
  givenName: 'Élodie',
  acr: 'eidas1',
  authMode: 'CARD',
  exercices: [{ professionCode: '10', professionLabel: 'Médecin', category: 'C', structures: [] }],
} as unknown as Identity
const fields = (
  ['idNat', 'rpps', 'familyName', 'givenName', 'professionCode', 'profession', 'category', 'acr', 'authMode'] as const
).map((field) => ({ header: `X-${field}`, field }))
const upstream: UpstreamSettings = {
  name: 'dpi',
  url: 'http://127.0.0.1:1',
  websocket: false,
  forwardAccessToken: false,
  assertion: { header: 'X-PSC-Assertion', audience: 'dpi', ttlMs: 60_000 },
}

function measure(label: string, n: number, fn: (i: number) => void): void {
  for (let i = 0; i < 2000; i++) fn(i)
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) fn(i)
  const us = Number(process.hrtime.bigint() - start) / 1000 / n
  process.stdout.write(`${label.padEnd(44)} ${us.toFixed(2)} µs/request\n`)
}

for (const [alg, pair] of [
  ['EdDSA', generateKeyPairSync('ed25519')],
  ['ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' })],
] as const) {
  const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const issuer = await AssertionIssuer.create({
    assertion: { keys: [pem], issuer: 'https://dpi.hopital.fr' },
  } as GatewayConfig)
  measure(`${alg}: a new token (sign) every request`, 20_000, (i) =>
    issuer.headerFor(identity, upstream, fields, `s${i}`, FIRST_EXERCICE),
  )
  measure(`${alg}: reused token (same session, upstream)`, 200_000, () =>
    issuer.headerFor(identity, upstream, fields, 'one-session', FIRST_EXERCICE),
  )
}
