// Which request a forward-auth sub-request asks about: headers only from a trusted peer, agreeing
// spellings, no repeats, normalised as in proxy mode; Envoy's path form needs no header.
import t from 'tap'
import { originalRequest, type ForwardAuthInput } from '../../src/policy/forwarded-request.js'

const base: ForwardAuthInput = {
  method: 'GET',
  url: '/_psc/auth',
  authPath: '/_psc/auth',
  host: 'dpi.hopital.fr',
  peerTrusted: true,
  rawHeaders: [],
}
const ask = (rawHeaders: string[], over: Partial<ForwardAuthInput> = {}) =>
  originalRequest({ ...base, rawHeaders, ...over })

t.test('headers from a trusted proxy, normalised', async (t) => {
  t.same(ask(['X-Original-URI', '/a/./b/../c?x=%2F', 'X-Original-Method', 'post']), {
    ok: true,
    method: 'POST',
    host: 'dpi.hopital.fr',
    url: '/a/c?x=%2F',
    form: 'headers',
  })
  t.same(
    ask(['X-Forwarded-Uri', '/a', 'X-Forwarded-Method', 'GET']),
    { ok: true, method: 'GET', host: 'dpi.hopital.fr', url: '/a', form: 'headers' },
    'Traefik spelling',
  )
  t.same(
    ask(['X-Original-URI', '/a', 'x-forwarded-uri', '/a', 'X-Original-Method', 'GET']),
    { ok: true, method: 'GET', host: 'dpi.hopital.fr', url: '/a', form: 'headers' },
    'both spellings, agreeing',
  )
})

t.test('ingress-nginx: X-Original-URL names the path and the host', async (t) => {
  t.same(ask(['X-Original-URL', 'https://Dossiers.Hopital.fr/a/b?x=1', 'X-Original-Method', 'GET']), {
    ok: true,
    method: 'GET',
    host: 'Dossiers.Hopital.fr',
    url: '/a/b?x=1',
    form: 'headers',
  })
  t.same(ask(['X-Original-URL', 'https://dpi.hopital.fr?x=1', 'X-Original-Method', 'GET']), {
    ok: true,
    method: 'GET',
    host: 'dpi.hopital.fr',
    url: '/?x=1',
    form: 'headers',
  })
  t.match(
    ask(['X-Original-URL', 'https://dpi.hopital.fr/admin', 'X-Forwarded-Uri', '/public', 'X-Original-Method', 'GET']),
    { ok: false, code: 'PSC_ERR_FORWARD_AUTH_CONFLICT' },
    'a client-sent X-Forwarded-Uri passed through',
  )
  t.match(
    ask([
      'X-Original-URL',
      'https://dpi.hopital.fr/admin',
      'X-Forwarded-Host',
      'public.hopital.fr',
      'X-Original-Method',
      'GET',
    ]),
    { ok: false, code: 'PSC_ERR_FORWARD_AUTH_CONFLICT' },
  )
  t.match(ask(['X-Original-URL', '/admin', 'X-Original-Method', 'GET']), { ok: false, code: 'PSC_ERR_INVALID_TARGET' })
  t.match(ask(['X-Original-URL', 'https://user@evil/admin', 'X-Original-Method', 'GET']), {
    ok: false,
    code: 'PSC_ERR_INVALID_TARGET',
  })
  t.match(
    ask(['X-Original-URL', 'https://dpi.hopital.fr/a/../../etc', 'X-Original-Method', 'GET']),
    { ok: false, code: 'PSC_ERR_INVALID_TARGET' },
    'normalised as in proxy mode',
  )
})

t.test('refusals', async (t) => {
  t.match(
    ask(['X-Original-URI', '/public', 'X-Original-Method', 'GET'], { peerTrusted: false }),
    { ok: false, code: 'PSC_ERR_FORWARD_AUTH_UNTRUSTED_PEER' },
    'untrusted peer: headers ignored',
  )
  t.match(ask(['X-Original-URI', '/admin', 'X-Forwarded-Uri', '/public', 'X-Original-Method', 'GET']), {
    ok: false,
    code: 'PSC_ERR_FORWARD_AUTH_CONFLICT',
  })
  t.match(ask(['X-Original-URI', '/admin', 'X-Original-URI', '/public', 'X-Original-Method', 'GET']), {
    ok: false,
    code: 'PSC_ERR_FORWARD_AUTH_CONFLICT',
    detail: /repeated/,
  })
  t.match(ask(['X-Original-URI', '/a', 'X-Original-Method', 'GET', 'X-Forwarded-Method', 'POST']), {
    ok: false,
    code: 'PSC_ERR_FORWARD_AUTH_CONFLICT',
  })
  t.match(ask(['X-Original-Method', 'GET']), { ok: false, code: 'PSC_ERR_FORWARD_AUTH_INCOMPLETE' })
  t.match(
    ask(['X-Original-URI', '/a']),
    { ok: false, code: 'PSC_ERR_FORWARD_AUTH_INCOMPLETE' },
    'no method: never assumed GET',
  )
  t.match(ask(['X-Original-URI', '/a', 'X-Original-Method', 'G E T']), {
    ok: false,
    code: 'PSC_ERR_FORWARD_AUTH_INCOMPLETE',
  })
  t.match(ask(['X-Original-URI', '/admin%2Fx', 'X-Original-Method', 'GET']), {
    ok: false,
    code: 'PSC_ERR_INVALID_TARGET',
  })
  t.match(ask(['X-Original-URI', '/admin;x', 'X-Original-Method', 'GET']), {
    ok: false,
    code: 'PSC_ERR_INVALID_TARGET',
  })
  t.match(ask(['X-Original-URI', 'http://evil/admin', 'X-Original-Method', 'GET']), {
    ok: false,
    code: 'PSC_ERR_INVALID_TARGET',
  })
})

t.test("Envoy's path form: the request itself, whoever sends it, whatever its headers say", async (t) => {
  t.same(
    ask(['X-Forwarded-Uri', '/public'], { url: '/_psc/auth/dossiers/42?x=1', method: 'DELETE', peerTrusted: false }),
    { ok: true, method: 'DELETE', host: 'dpi.hopital.fr', url: '/dossiers/42?x=1', form: 'path' },
  )
  t.match(
    ask([], { url: '/_psc/authx', peerTrusted: true }),
    { ok: false, code: 'PSC_ERR_FORWARD_AUTH_INCOMPLETE' },
    '/_psc/authx is not the path form',
  )
})
