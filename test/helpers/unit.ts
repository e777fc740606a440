// Small parts for unit tests of the request path (gate, forwarding, auth routes, token keeper):
// a configuration from YAML, a practitioner, a capturing audit trail, session stores that fail
// like an unreachable Redis. No emulator, no upstream process.
import type { AuditEvent, AuditSink } from '../../src/audit/events.js'
import { AuditTrail } from '../../src/audit/trail.js'
import { loadConfigText } from '../../src/config/load.js'
import type { GatewayConfig } from '../../src/config/types.js'
import type { Identity } from '../../src/psc/identity.js'
import { MemorySessionStore } from '../../src/session/memory-store.js'
import { SessionStoreUnavailable, type SessionRecord } from '../../src/session/store.js'

export const UNIT_SECRET = 'unit-session-secret-0123456789abcdef-AAAA'
export const PUBLIC_HOST = 'gw.hopital.test'

export function unitConfig(
  o: { appUrl?: string; apiUrl?: string; appTimeout?: string; revalidateEvery?: string; extraHeaders?: string } = {},
): GatewayConfig {
  const yaml = `
listen: { host: 127.0.0.1, port: 8080 }
publicUrl: http://${PUBLIC_HOST}
psc:
  environment: custom
  issuer: http://psc.test
  clientId: unit-client
  clientSecret: unit-client-secret-0123456789
  allowInsecureHttp: true
${o.revalidateEvery ? `  revalidateEvery: ${o.revalidateEvery}\n` : ''}session:
  secrets: ["${UNIT_SECRET}"]
  idleTimeout: 30m
  absoluteTimeout: 8h
upstreams:
  app: { url: "${o.appUrl ?? 'http://127.0.0.1:9/base'}", headers: { X-App-Secret: "s3cret-static" }${o.appTimeout ? `, timeout: ${o.appTimeout}` : ''} }
  api: { url: "${o.apiUrl ?? 'http://127.0.0.1:9'}", forwardAccessToken: true }
headers:
  encoding: percent
${o.extraHeaders ?? ''}
routes:
  - name: public
    match: { pathPrefix: /public }
    upstream: app
    access: public
  - name: pharmacie
    match: { pathPrefix: /pharmacie }
    upstream: app
    access: { professions: ["21"] }
  - name: api
    match: { pathPrefix: /api }
    upstream: api
    access: authenticated
  - name: application
    upstream: app
    access: authenticated
`
  return loadConfigText(yaml, 'unit.yaml', {}).config
}

/** A médecin (profession 10, civil) with an RPPS idNat. */
export function doctor(): Identity {
  return {
    sub: 'f:0a1b:810000000001',
    idNat: '810000000001',
    rpps: '10000000001',
    familyName: 'Lefèvre',
    givenName: 'Jeanne',
    acr: 'eidas1',
    exercices: [{ professionCode: '10', professionLabel: 'Médecin', category: 'C', structures: [] }],
  }
}

export function sessionFields(identity: Identity = doctor(), over: Partial<SessionRecord> = {}) {
  return {
    identity,
    idToken: 'id-token-1',
    accessToken: 'access-token-1',
    refreshToken: 'refresh-token-1',
    accessTokenExpiresAt: Date.now() + 120_000,
    pscSid: 'sid-1',
    ...over,
  }
}

export function captureAudit(): { events: AuditEvent[]; trail: AuditTrail } {
  const events: AuditEvent[] = []
  const sink: AuditSink = { write: (e) => void events.push(JSON.parse(JSON.stringify(e)) as AuditEvent) }
  return { events, trail: new AuditTrail(sink) }
}

/** A memory store that can be made to fail as an unreachable Redis does (at once, or by a rejected promise). */
export class FlakyStore extends MemorySessionStore {
  down: false | 'sync' | 'async' = false
  constructor() {
    super(1000)
  }
  #fail(): never {
    throw new SessionStoreUnavailable('connection refused (test)')
  }
  override get(id: string): SessionRecord | undefined {
    if (this.down === 'sync') this.#fail()
    if (this.down === 'async') return Promise.reject(new SessionStoreUnavailable('connection refused (test)')) as never
    return super.get(id)
  }
  override async set(id: string, record: SessionRecord, ttlMs: number): Promise<void> {
    if (this.down) this.#fail()
    return super.set(id, record, ttlMs)
  }
  override async delete(id: string): Promise<void> {
    if (this.down) this.#fail()
    return super.delete(id)
  }
}
