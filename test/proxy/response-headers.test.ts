// Upstream response headers with characters a header value may not carry are cleaned, not fatal.
import t from 'tap'
import { sanitizeResponseHeaders } from '../../src/proxy/response-headers.js'

t.test('control characters are removed; valid values, obs-text and numbers are kept as they are', async (t) => {
  const headers = {
    'content-type': 'text/html\u0001',
    'x-ok': 'tab\tand latin-1 é',
    'content-length': 42,
    'set-cookie': ['a=1\u0000', 'b=2'],
    'x-emoji': 'ok😀',
  }
  const out = sanitizeResponseHeaders(headers)
  t.same(out, {
    'content-type': 'text/html',
    'x-ok': 'tab\tand latin-1 é',
    'content-length': 42,
    'set-cookie': ['a=1', 'b=2'],
    'x-emoji': 'ok',
  })
})

t.test('an array without a bad value is the same array', async (t) => {
  const cookies = ['a=1', 'b=2']
  t.equal(sanitizeResponseHeaders({ 'set-cookie': cookies })['set-cookie'], cookies)
})

t.test(
  "the upstream's hop-by-hop headers, and those its Connection header names, never reach the client",
  async (t) => {
    const out = sanitizeResponseHeaders({
      connection: 'keep-alive, X-Upstream-Hop',
      'keep-alive': 'timeout=5, max=1000',
      'x-upstream-hop': 'secret of the hop',
      'proxy-connection': 'keep-alive',
      'transfer-encoding': 'chunked',
      upgrade: 'h2c',
      te: 'trailers',
      trailer: 'X-Checksum',
      'proxy-authenticate': 'Basic',
      'content-type': 'text/html',
      'set-cookie': ['a=1'],
    })
    t.same(out, { 'content-type': 'text/html', 'set-cookie': ['a=1'] })
  },
)

t.test('a Connection header naming only keep-alive or close removes nothing else; a list names each', async (t) => {
  const upstream = { connection: 'keep-alive', 'keep-alive': 'timeout=5', 'content-length': '2', date: 'x' }
  t.same(sanitizeResponseHeaders(upstream), { 'content-length': '2', date: 'x' })
  t.same(sanitizeResponseHeaders({ connection: ['close', 'X-A'], 'x-a': '1', 'x-b': '2' }), { 'x-b': '2' })
})
