// Paths an upstream that decodes twice would read differently: an encoded percent sign followed by
// two hex digits, in any case; a lone "%25" (a real percent sign in the text) is not one.
import t from 'tap'
import { encodedTwice } from '../../src/policy/double-decoding.js'

t.test('encoded dots, slashes, backslashes and percent signs are found', async (t) => {
  for (const path of [
    '/a/%252e%252e/admin',
    '/a/%252E',
    '/a/%252f',
    '/a/%255c',
    '/a/%25252e',
    '/x%2541',
    '/%25%252f',
  ]) {
    t.ok(encodedTwice(path), path)
  }
})

t.test('paths decoded once mean the same to everyone', async (t) => {
  for (const path of ['/', '/a/b', '/100%25', '/100%25/x', '/a%25g1', '/a%25', '/a%2', '/r%C3%A9sum%C3%A9']) {
    t.notOk(encodedTwice(path), path)
  }
})
