// Upstream response headers with characters a header value may not carry are cleaned, not fatal.
import t from 'tap'
import { sanitizeResponseHeaders } from '../../src/proxy/response-headers.js'

t.test('control characters are removed; valid values, obs-text and numbers are kept as they are', async (t) => {
  const headers = {
    'content-type': 'text/html\u0001',
    'x-ok': 'tab\tand latin-1 é',
    'content-length': 42,
    'set-cookie': ['a=1\u0000', 'b=2'],
    'x-emoji': 'ok😀'
  }
  const out = sanitizeResponseHeaders(headers)
  t.equal(out, headers, 'cleaned in place')
  t.same(out, {
    'content-type': 'text/html',
    'x-ok': 'tab\tand latin-1 é',
    'content-length': 42,
    'set-cookie': ['a=1', 'b=2'],
    'x-emoji': 'ok'
  })
})

t.test('an array without a bad value is the same array', async (t) => {
  const cookies = ['a=1', 'b=2']
  t.equal(sanitizeResponseHeaders({ 'set-cookie': cookies })['set-cookie'], cookies)
})
