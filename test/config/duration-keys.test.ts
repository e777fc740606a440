// Durations in the configuration: every duration key, whatever its section, is checked and
// converted through its schema (src/config/duration-keys.ts).
import t from 'tap'
import { BASE, brief, issuesOf, load } from './fixture.js'

t.test('durations: zero and too long are errors at their line, never a crash', async (t) => {
  // 16 digits pass the schema's pattern; the old parser threw a RangeError out of the loader
  t.same(brief(issuesOf(`${BASE}lifecycle:\n  shutdownGrace: 9999999999999999s\n`)), [
    '23:lifecycle.shutdownGrace: expected a duration of at most 104249991d, got "9999999999999999s"',
  ])
  t.same(brief(issuesOf(`${BASE}limits:\n  rateLimit:\n    window: 0s\n`)), [
    '24:limits.rateLimit.window: expected a duration greater than zero, got "0s"',
  ])
  const long = BASE.replace(
    '    - ${SESSION_SECRET}',
    '    - ${SESSION_SECRET}\n  idleTimeout: 104249991d\n  absoluteTimeout: 104249992d',
  )
  t.same(brief(issuesOf(long)), [
    '10:session.absoluteTimeout: expected a duration of at most 104249991d, got "104249992d"',
  ])
})

t.test('durations the gateway waits for with a timer fit in one (else Node waits 1 ms)', async (t) => {
  const timeout = (d: string) =>
    BASE.replace('    url: http://dpi.internal:8080', `    url: http://dpi.internal:8080\n    timeout: ${d}`)
  t.same(brief(issuesOf(timeout('25d'))), [
    '12:upstreams.dpi.timeout: expected a duration of at most 2147483647ms (24.8 days, the longest a timer can wait), got "25d"',
  ])
  t.equal(load(timeout('2147483647ms')).config.upstreams.dpi!.timeoutMs, 2_147_483_647)
  t.same(brief(issuesOf(BASE.replace('  clientId: my-client', '  clientId: my-client\n  httpTimeout: 600h'))), [
    '5:psc.httpTimeout: expected a duration of at most 2147483647ms (24.8 days, the longest a timer can wait), got "600h"',
  ])
  t.match(brief(issuesOf(`${BASE}lifecycle:\n  shutdownGrace: 30d\n`)), [
    /^23:lifecycle\.shutdownGrace: expected a duration of at most 2147483647ms/,
  ])
  const years = load(
    BASE.replace('    - ${SESSION_SECRET}', '    - ${SESSION_SECRET}\n  idleTimeout: 400d\n  absoluteTimeout: 400d'),
  ).config
  t.equal(
    years.session.absoluteTimeoutMs,
    400 * 86_400_000,
    'session lifetimes are compared with clocks, not timers: no such limit',
  )
})

t.test('a worker start deadline shorter than the store wait is refused at its line; the default is 60s', async (t) => {
  t.same(brief(issuesOf(`${BASE}lifecycle:\n  workerStartTimeout: 5s\n`)), [
    '23:lifecycle.workerStartTimeout: at least 10s: a worker waits up to 5s for its session store before it listens',
  ])
  t.equal(load(`${BASE}lifecycle:\n  workerStartTimeout: 10s\n`).config.lifecycle.workerStartTimeoutMs, 10_000)
  t.equal(load(BASE).config.lifecycle.workerStartTimeoutMs, 60_000)
})
