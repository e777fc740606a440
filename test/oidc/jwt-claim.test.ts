// authMode when PSC puts it only in the access token (a JWT): read from the token's payload.
import t from 'tap'
import { SignJWT, generateKeyPair } from 'jose'
import { jwtClaim } from '../../src/oidc/login-flow.js'

t.test('a claim of a JWT access token is read; opaque or malformed tokens give nothing', async (t) => {
  const { privateKey } = await generateKeyPair('ES256')
  const token = await new SignJWT({ authMode: 'MOBILE', acr: 'eidas1', n: 3 })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuedAt()
    .sign(privateKey)
  t.equal(jwtClaim(token, 'authMode'), 'MOBILE')
  t.equal(jwtClaim(token, 'n'), undefined, 'a claim that is not a string')
  t.equal(jwtClaim(token, 'missing'), undefined)
  t.equal(jwtClaim('opaque-token-8f7a6b', 'authMode'), undefined, 'opaque token')
  t.equal(jwtClaim('a.%%%.c', 'authMode'), undefined, 'payload that is not base64url JSON')
  t.equal(
    jwtClaim(`a.${Buffer.from('"text"').toString('base64url')}.c`, 'authMode'),
    undefined,
    'payload that is not an object',
  )
})
