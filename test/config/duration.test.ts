import t from 'tap'
import fc from 'fast-check'
import { DURATION_PATTERN, parseDuration } from '../../src/config/duration.js'

t.test('a whole number and a unit, in milliseconds', async (t) => {
  t.equal(parseDuration('500ms'), 500)
  t.equal(parseDuration('90s'), 90_000)
  t.equal(parseDuration('30m'), 1_800_000)
  t.equal(parseDuration('8h'), 28_800_000)
  t.equal(parseDuration('1d'), 86_400_000)
  t.equal(parseDuration('007s'), 7000, 'leading zeros are digits like any other')
  t.equal(parseDuration('0s'), 0, 'zero is a duration; callers that need more say so')
})

t.test('anything else is undefined, never an exception', async (t) => {
  for (const bad of [
    '',
    '1',
    's',
    '1.5h',
    '-1s',
    '+1s',
    '1 h',
    ' 1h',
    '1h ',
    '1H',
    '1w',
    '1h30m',
    '1e3ms',
    '１s',
    '1s\n',
  ]) {
    t.equal(parseDuration(bad), undefined, JSON.stringify(bad))
  }
})

t.test('too long to count exactly in milliseconds is undefined', async (t) => {
  const maxDays = Math.floor(Number.MAX_SAFE_INTEGER / 86_400_000)
  t.equal(parseDuration(`${maxDays}d`), maxDays * 86_400_000)
  t.equal(parseDuration(`${maxDays + 1}d`), undefined)
  t.equal(parseDuration(`${Number.MAX_SAFE_INTEGER}ms`), Number.MAX_SAFE_INTEGER)
  t.equal(parseDuration(`${Number.MAX_SAFE_INTEGER + 1}ms`), undefined)
  t.equal(parseDuration(`${'9'.repeat(400)}s`), undefined)
})

t.test('the schema pattern and the parser accept the same texts', async () => {
  const pattern = new RegExp(DURATION_PATTERN)
  const text = fc.oneof(
    fc.tuple(fc.nat({ max: 1e9 }), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w', 'H', '')).map(([n, u]) => `${n}${u}`),
    fc.string(),
  )
  const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
  fc.assert(
    fc.property(text, (s) => {
      const ms = parseDuration(s)
      if (!pattern.test(s)) return ms === undefined
      const [, digits, unit] = /^([0-9]+)(.*)$/.exec(s)!
      const exact = Number(digits) * UNIT[unit!]!
      return Number.isSafeInteger(exact) ? ms === exact : ms === undefined
    }),
    { numRuns: 2000 },
  )
})
