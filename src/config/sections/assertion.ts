// assertion: the keys that sign the identity assertions of upstreams.<name>.assertion
// (proxy/identity-assertion.ts). Checked at start-up: a key that cannot sign is an error with its line.
import { Type } from '@sinclair/typebox'
import { checkAssertionKeys } from '../assertion-keys.js'
import type { ConfigSection } from '../checks.js'
import { withMs } from '../duration-keys.js'

export const AssertionSchema = Type.Object(
  {
    keys: Type.Array(
      Type.String({
        minLength: 1,
        description:
          'A PKCS#8 PEM private key, Ed25519 (EdDSA) or P-256 (ES256); e.g. ${PSC_ASSERTION_KEY}, or PSC_ASSERTION_KEY_FILE=/run/secrets/...',
      }),
      {
        default: [],
        description:
          'Signing keys of the identity assertions: the first signs, every one is published at <prefix>/jwks.json (rotation: add the new key second, then move it first, remove the old one after the longest ttl). ' +
          'Empty: an Ed25519 key is generated at start, which suits a single replica only',
      },
    ),
    issuer: Type.Optional(Type.String({ minLength: 1, description: 'The JWT "iss" claim (default: publicUrl)' })),
  },
  { additionalProperties: false, default: {} },
)

export const assertion: ConfigSection<'assertion'> = {
  check(raw, checks) {
    for (const [i, message] of checkAssertionKeys(raw.assertion.keys))
      checks.error(['assertion', 'keys', String(i)], message)
    if (
      raw.assertion.keys.length === 0 &&
      raw.session.store.type === 'redis' &&
      Object.values(raw.upstreams).some((u) => u.assertion !== undefined)
    ) {
      checks.warn(
        ['assertion', 'keys'],
        'no assertion key configured: each replica generates its own at start, so a token signed by one replica is published only by that one; share a key (assertion.keys: ["${PSC_ASSERTION_KEY}"])',
      )
    }
  },
  convert: (raw) => ({ assertion: withMs(AssertionSchema, raw.assertion) }),
}
