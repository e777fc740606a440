import t from 'tap'
import { requestKind } from '../../src/policy/request-kind.js'
import { isPublicHost, publicHostOf } from '../../src/policy/public-host.js'

t.test('request kinds from browser headers', async (t) => {
  t.equal(requestKind({ 'sec-fetch-mode': 'navigate', accept: 'text/html' }), 'navigation')
  t.equal(
    requestKind({ 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image', accept: 'image/avif,image/webp,*/*' }),
    'subresource',
    'the favicon',
  )
  t.equal(requestKind({ 'sec-fetch-mode': 'cors', accept: '*/*' }), 'subresource', 'fetch()')
  t.equal(requestKind({ upgrade: 'WebSocket', 'sec-fetch-mode': 'websocket' }), 'websocket')
  t.equal(requestKind({}), 'navigation', 'an old client without fetch metadata')
  t.equal(requestKind({ accept: 'application/json' }), 'subresource')
  t.equal(requestKind({ 'x-requested-with': 'XMLHttpRequest', accept: 'text/html' }), 'subresource')
  t.equal(requestKind({ accept: 'image/png' }), 'subresource')
  t.equal(requestKind({ accept: 'text/html,application/xhtml+xml' }), 'navigation')
})

t.test('public host', async (t) => {
  const host = publicHostOf('https://DPI.hopital.fr')
  t.equal(host, 'dpi.hopital.fr')
  t.ok(isPublicHost('dpi.hopital.fr', host))
  t.ok(isPublicHost('DPI.Hopital.FR.:443', host), 'case, trailing dot and port do not matter')
  t.notOk(isPublicHost('dpi', host), 'a short intranet name is another host')
  t.notOk(isPublicHost('10.1.2.3', host))
  t.notOk(isPublicHost(undefined, host))
  t.notOk(isPublicHost('dpi.hopital.fr.evil.example', host))
  t.ok(isPublicHost('[::1]:8080', publicHostOf('http://[::1]:8080')))
})
