// The "Features that meet" table of docs/architecture.md cannot rot: every integration test it names
// exists, in the file it names, under that exact title; every row names a test or says plainly that
// it has none yet.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'

const ROOT = new URL('../../', import.meta.url).pathname
const page = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8')
const section = page.slice(page.indexOf('## Features that meet'))
const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| pair ') && !l.startsWith('|---'))
const REF = /`(test\/[^`]+\.test\.ts)` — "([^"]+)"/g

t.test('the table is there and every row names a test or says it has none', async (t) => {
  t.ok(page.includes('## Features that meet'), 'the section exists')
  t.ok(rows.length >= 10, `${rows.length} rows`)
  for (const row of rows) {
    const cells = row.split(' | ')
    const status = cells.at(-1) ?? ''
    t.ok(REF.test(status) || /\*\*pending\*\*|\*\*no test yet\*\*/.test(status), cells[0]!.slice(2))
    REF.lastIndex = 0
  }
})

t.test('every test the table names exists under that title', async (t) => {
  let named = 0
  for (const row of rows) {
    for (const [, file, title] of row.matchAll(REF)) {
      named++
      const path = join(ROOT, file!)
      if (!existsSync(path)) {
        t.fail(`${file} does not exist`)
        continue
      }
      // Titles are written in single, double or back quotes, with \' inside single ones.
      const text = readFileSync(path, 'utf8').replaceAll("\\'", "'")
      // The formatter may put a long title on the line after `test(`.
      const found = [`'${title}'`, `"${title}"`, `\`${title}\``].some((quoted) =>
        new RegExp(`test\\(\\s*${quoted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).test(text),
      )
      t.ok(found, `${file}: "${title}"`)
    }
  }
  t.ok(named >= 10, `${named} tests named`)
})
