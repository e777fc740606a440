// The signed identity assertion: a short-lived JWT (EdDSA or ES256) sent to the upstreams that ask
// for one (upstreams.<name>.assertion), and on forward-auth answers, so that an upstream can refuse
// any request that did not come through the gateway. Public keys at <prefix>/jwks.json.
//
// Cost: a token is reused for the same session and upstream during the first half of its lifetime
// (a token always has at least half its ttl left when sent), so a practitioner's requests cost one
// signature per ttl/2, not one per request. `jti` therefore names a token, not a request: an
// upstream must not treat a repeated jti as a replay. Signing is synchronous (node:crypto) because
// the proxy's header rewrite is; jose serves for the JWKS (and the tests verify with it).
import { createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose'
import { LRUCache } from 'lru-cache'
import { assertionKeyOf, type AssertionAlgorithm } from '../config/assertion-keys.js'
import type { GatewayConfig, IdentityHeader, UpstreamSettings } from '../config/types.js'
import { identityFieldValue } from './identity-headers.js'
import type { Identity } from '../psc/identity.js'
import { FIRST_EXERCICE, type ExerciceInContext } from '../policy/exercice-in-context.js'

interface SigningKey {
  key: KeyObject
  alg: AssertionAlgorithm
  kid: string
  /** the JWS header, already encoded */
  header: string
  jwk: JWK
}

interface Minted {
  value: string
  /** seconds: past this, a new token is signed */
  renewAt: number
  identity: Identity
  identityFields: readonly IdentityHeader[]
}

export interface AssertionHeader {
  name: string
  value: string
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url')

export class AssertionIssuer {
  readonly #signing: SigningKey
  readonly #published: { keys: JWK[] }
  readonly #issuer: string
  readonly #now: () => number
  readonly #minted = new LRUCache<string, Minted>({ max: 50_000 })
  /** the key was generated at start (single replica only) */
  readonly generated: boolean

  private constructor(keys: SigningKey[], issuer: string, now: () => number, generated: boolean) {
    this.#signing = keys[0]!
    this.#published = Object.freeze({ keys: keys.map((k) => k.jwk) })
    this.#issuer = issuer
    this.#now = now
    this.generated = generated
  }

  static async create(config: GatewayConfig, now: () => number = Date.now): Promise<AssertionIssuer> {
    const parsed = config.assertion.keys.map((pem) => {
      const k = assertionKeyOf(pem)
      if ('error' in k) throw new Error(`assertion.keys: ${k.error}`)
      return k
    })
    const generated = parsed.length === 0
    if (generated) parsed.push({ key: generateKeyPairSync('ed25519').privateKey, alg: 'EdDSA' })
    const keys = await Promise.all(
      parsed.map(async ({ key, alg }): Promise<SigningKey> => {
        const publicJwk = await exportJWK(createPublicKey(key))
        const kid = await calculateJwkThumbprint(publicJwk)
        return {
          key,
          alg,
          kid,
          header: b64url(JSON.stringify({ alg, kid, typ: 'JWT' })),
          jwk: Object.freeze({ ...publicJwk, kid, alg, use: 'sig' }),
        }
      }),
    )
    return new AssertionIssuer(keys, config.assertion.issuer ?? config.publicUrl, now, generated)
  }

  /** The public keys, for <prefix>/jwks.json. */
  get jwks(): { keys: JWK[] } {
    return this.#published
  }

  /**
   * The assertion header for a request allowed for `identity` (in the exercice `inContext`) to `upstream`, or undefined when the
   * upstream does not ask for one. `session` (the session's reference) lets a token be reused.
   * `route`: the route the request was allowed by, as the `route` claim (forward-auth answers), so
   * that a token handed out for one route cannot pass for another.
   */
  headerFor(
    identity: Identity,
    upstream: UpstreamSettings,
    fields: readonly IdentityHeader[],
    session: string | undefined,
    inContext: ExerciceInContext,
    route?: string,
  ): AssertionHeader | undefined {
    const settings = upstream.assertion
    if (settings === undefined) return undefined
    const now = Math.floor(this.#now() / 1000)
    // One token per exercice in context and per route: two routes of one upstream may be allowed for two exercices.
    const cacheKey =
      session === undefined
        ? undefined
        : `${session}\n${upstream.name}\n${settings.audience}\n${settings.ttlMs}\n${inContext.exercice}.${inContext.structure}\n${route ?? ''}`
    if (cacheKey !== undefined) {
      const hit = this.#minted.get(cacheKey)
      if (hit !== undefined && now < hit.renewAt && hit.identity === identity && hit.identityFields === fields)
        return { name: settings.header, value: hit.value }
    }
    const ttl = Math.floor(settings.ttlMs / 1000)
    const value = this.sign(identity, fields, settings.audience, now, ttl, inContext, route)
    if (cacheKey !== undefined)
      this.#minted.set(cacheKey, { value, renewAt: now + Math.floor(ttl / 2), identity, identityFields: fields })
    return { name: settings.header, value }
  }

  /** One JWT: iss, aud, sub, iat, exp, jti, route when given, and the identity fields the headers carry (for the exercice in context), by field name. */
  sign(
    identity: Identity,
    fields: readonly IdentityHeader[],
    audience: string,
    iat: number,
    ttlSeconds: number,
    inContext: ExerciceInContext = FIRST_EXERCICE,
    route?: string,
  ): string {
    const claims: Record<string, unknown> = {
      iss: this.#issuer,
      aud: audience,
      sub: identity.sub,
      iat,
      exp: iat + ttlSeconds,
      jti: randomUUID(),
    }
    if (route !== undefined) claims.route = route
    for (const { field } of fields) {
      const value = identityFieldValue(identity, field, inContext)
      if (value !== undefined && value !== '') claims[field] = value
    }
    const k = this.#signing
    const input = `${k.header}.${b64url(JSON.stringify(claims))}`
    const signature =
      k.alg === 'EdDSA'
        ? sign(null, Buffer.from(input), k.key)
        : sign('sha256', Buffer.from(input), { key: k.key, dsaEncoding: 'ieee-p1363' })
    return `${input}.${signature.toString('base64url')}`
  }
}
