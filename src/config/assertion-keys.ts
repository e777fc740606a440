// The assertion settings: signing keys checked at start-up (a key that cannot sign is a config
// error with its line, not a failure on the first request), and each upstream's token lifetime.
import { createPrivateKey, type KeyObject } from 'node:crypto'
import type { Checks } from './checks.js'
import { parseDuration } from './duration.js'

export type AssertionAlgorithm = 'EdDSA' | 'ES256'

const MIN_TTL_MS = 10_000
const MAX_TTL_MS = 600_000

/** The JWS algorithm a private key signs with, or why it cannot be used. */
export function assertionKeyOf(pem: string): { key: KeyObject; alg: AssertionAlgorithm } | { error: string } {
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch {
    // Never echo the value: it is a secret.
    return {
      error:
        'not a PEM private key (expected "-----BEGIN PRIVATE KEY-----", PKCS#8; openssl genpkey -algorithm ed25519)',
    }
  }
  if (key.asymmetricKeyType === 'ed25519') return { key, alg: 'EdDSA' }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return { key, alg: 'ES256' }
  const kind =
    key.asymmetricKeyType === 'ec'
      ? `ec ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim()
      : (key.asymmetricKeyType ?? 'unknown')
  return { error: `a ${kind} key cannot sign assertions: use Ed25519 (EdDSA) or P-256 (ES256)` }
}

/** [index, message] for every key that cannot be used. */
export function checkAssertionKeys(keys: readonly string[]): Array<[number, string]> {
  const out: Array<[number, string]> = []
  keys.forEach((pem, i) => {
    const parsed = assertionKeyOf(pem)
    if ('error' in parsed) out.push([i, parsed.error])
    else if (keys.indexOf(pem) !== i) out.push([i, `the same key as assertion.keys[${keys.indexOf(pem)}]`])
  })
  return out
}

/** The lifetime of an upstream's assertion: long enough for clock skew, short enough to matter. */
export function checkAssertionTtl(ttl: string, at: string[], checks: Checks): void {
  const ttlMs = parseDuration(ttl)
  if (ttlMs !== undefined && (ttlMs < MIN_TTL_MS || ttlMs > MAX_TTL_MS))
    checks.error(at, `expected a lifetime between 10s and 10m, got ${JSON.stringify(ttl)}`)
}
