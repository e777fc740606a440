// What the operator pages say about /readyz while Redis is down is what the gateway does: the
// session store's check only reports (200, "degraded"), on purpose; no page may say 503 for it.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sessionStoreCheck } from '../../src/ops/readiness.js'

const ROOT = join(import.meta.dirname, '..', '..')
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8')

t.test(
  'Redis down: the check only reports, and troubleshooting.md and deployment.md say 200 with "degraded"',
  async (t) => {
    const check = await sessionStoreCheck({
      kind: 'redis',
      size: () => 0,
      health: () => ({ ok: false, reason: 'connection refused' }),
    })
    t.match(check, { ok: false, reportOnly: true }, 'the behaviour the pages describe')
    for (const page of ['docs/troubleshooting.md', 'docs/deployment.md']) {
      const lines = read(page)
        .split('\n')
        .filter((l) => l.includes('/readyz') && /sessions|Redis/.test(l))
      t.ok(lines.length > 0, `${page} speaks of /readyz and Redis`)
      for (const l of lines) {
        t.notMatch(
          l,
          /\/readyz` answers 503 `sessions|503[^.|]*session store unreachable/,
          `${page}: no 503 for the session store`,
        )
      }
      t.ok(
        lines.some((l) => l.includes('200') && l.includes('"degraded":["sessions"]')),
        `${page}: 200 with "degraded":["sessions"]`,
      )
    }
  },
)
