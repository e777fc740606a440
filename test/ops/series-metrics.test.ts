// The per-request counter and histogram report exactly what prom-client's own Counter and
// Histogram report for the same observations (same exposition text), including values on a bucket
// bound, several label sets, and after a registry reset.
import t from 'tap'
import { Counter, Histogram, Registry } from 'prom-client'
import { SeriesCounter, SeriesHistogram } from '../../src/ops/series-metrics.js'

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
// on bounds, between them, below the first, above the last, zero
const VALUES = [0, 0.001, 0.005, 0.0051, 0.01, 0.3, 0.5, 1, 2.5, 7, 60, 61, 1234.5, 0.025, 0.024999]

function pair() {
  const ours = new Registry()
  const theirs = new Registry()
  const c1 = new SeriesCounter('x_requests_total', 'Requests', ours)
  const h1 = new SeriesHistogram('x_duration_seconds', 'Durations', BUCKETS, ours)
  const c2 = new Counter({
    name: 'x_requests_total',
    help: 'Requests',
    labelNames: ['route', 'decision'],
    registers: [theirs],
  })
  const h2 = new Histogram({
    name: 'x_duration_seconds',
    help: 'Durations',
    labelNames: ['route', 'decision'],
    buckets: BUCKETS,
    registers: [theirs],
  })
  return { ours, theirs, c1, h1, c2, h2 }
}

t.test('same exposition text as prom-client for the same observations', async (t) => {
  const { ours, theirs, c1, h1, c2, h2 } = pair()
  const labelSets = [
    { route: 'app', decision: 'allow' },
    { route: 'app', decision: 'deny' },
    { route: 'pub"lic\\', decision: 'allow' },
  ]
  for (const [i, labels] of labelSets.entries()) {
    const count = c1.series(labels)
    const duration = h1.series(labels)
    for (const v of VALUES.slice(i)) {
      count.inc()
      c2.inc(labels)
      duration.observe(v)
      h2.observe(labels, v)
    }
    count.inc(3)
    c2.inc(labels, 3)
  }
  const text = await ours.metrics()
  t.equal(text, await theirs.metrics())
  t.match(
    text,
    /x_duration_seconds_bucket\{le="0.005",route="app",decision="allow"\} 3\n/,
    'a value on a bound counts in that bucket',
  )
  t.match(text, /x_duration_seconds_count\{route="app",decision="allow"\} 15\n/)
})

t.test('the same series is returned for the same labels, and a reset empties every series', async (t) => {
  const { ours, theirs, c1, h1, c2, h2 } = pair()
  c1.series({ route: 'a', decision: 'allow' }).inc()
  c1.series({ route: 'a', decision: 'allow' }).inc()
  c2.inc({ route: 'a', decision: 'allow' }, 2)
  h1.series({ route: 'a', decision: 'allow' }).observe(0.2)
  h2.observe({ route: 'a', decision: 'allow' }, 0.2)
  t.equal(await ours.metrics(), await theirs.metrics())
  t.match(await ours.metrics(), /x_requests_total\{route="a",decision="allow"\} 2\n/)
  ours.resetMetrics()
  theirs.resetMetrics()
  t.equal(await ours.metrics(), await theirs.metrics())
  t.notMatch(await ours.metrics(), /route="a"/)
})
