import t from 'tap'
import fc from 'fast-check'
import { safeReturnPath } from '../../src/policy/return-path.js'

const BASE = 'https://gateway.example'

t.test('accepted', async (t) => {
  for (const rd of [
    '/',
    '/dpi',
    '/dpi/patients?id=1&x=%2B',
    '/a/b#frag',
    '/a:b',
    '/a%3Fb',
    '/caf%C3%A9',
    `/${'a'.repeat(2047)}`,
  ]) {
    t.equal(safeReturnPath(rd), rd, rd)
  }
})

t.test('rejected', async (t) => {
  const bad: unknown[] = [
    undefined,
    null,
    42,
    ['/a'],
    '',
    'dpi',
    '//evil',
    '//evil.example/x',
    '/\\evil',
    '\\/evil',
    '\\\\evil',
    'https:evil',
    'https://evil',
    'http:/evil',
    '/%2f/evil',
    '/%2F/evil',
    '%2f%2fevil',
    '/%5cevil',
    '/%09/evil',
    '/%0a/evil',
    '/%0d/evil',
    '/%20/evil',
    '/%00',
    '/\t/evil',
    '/\n/evil',
    '/\r/evil',
    ' /evil',
    '/ evil',
    '/\u0000',
    '/a\\b',
    'javascript:alert(1)',
    '/javascript:alert(1)'.replace('/', ''),
    '/é',
    '/a/..//evil',
    '/.//evil',
    `/${'a'.repeat(2048)}`,
    '/\u3000evil',
    '/\u00a0evil',
  ]
  for (const rd of bad) t.equal(safeReturnPath(rd), undefined, JSON.stringify(rd))
})

t.test('never accepts a string that leaves the origin', async (t) => {
  const pieces = fc.constantFrom(
    '/',
    '\\',
    '.',
    '..',
    '%2f',
    '%5c',
    '%09',
    '%2e',
    ':',
    '@',
    'evil',
    'https:',
    '//',
    '\t',
    '\n',
    ' ',
    '?',
    '#',
    'a',
    '%',
  )
  const candidates = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.array(pieces, { maxLength: 12 }).map((p) => p.join('')),
  )
  fc.assert(
    fc.property(candidates, (s) => {
      const r = safeReturnPath(s)
      if (r === undefined) return true
      return r === s && new URL(s, BASE).origin === BASE && s.startsWith('/') && !s.startsWith('//')
    }),
    { numRuns: 10000 },
  )
  t.pass()
})
