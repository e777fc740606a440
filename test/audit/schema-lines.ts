// Every audit line a test produces, checked against the published schema
// (docs/audit-events.schema.json) with ajv, the validator a SIEM integrator would use. Tests that
// read audit output (files, stdout, syslog messages, captured events) funnel it through here.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'
import { Ajv2020 } from 'ajv/dist/2020.js'

const ROOT = join(import.meta.dirname, '..', '..')
const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'audit-events.schema.json'), 'utf8')) as object
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema)

/** The problems of one line against the schema; [] when it is valid. */
export function auditLineProblems(line: string | object): string[] {
  let value: unknown = line
  if (typeof line === 'string') {
    try {
      value = JSON.parse(line)
    } catch {
      return ['not JSON']
    }
  }
  if (validate(value)) return []
  // oneOf reports every branch's complaint; the branch of the line's own event says what is wrong.
  const event = (value as { event?: unknown }).event
  const errors = validate.errors ?? []
  const mine = errors.filter((e) => {
    const m = /^#\/oneOf\/(\d+)\//.exec(e.schemaPath)
    const branch =
      m === null
        ? undefined
        : (schema as { oneOf: { properties: { event: { const?: string } } }[] }).oneOf[Number(m[1])]
    return branch?.properties.event.const === event
  })
  return (mine.length > 0 ? mine : errors).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params !== undefined ? ` ${JSON.stringify(e.params)}` : ''}`,
  )
}

/** Asserts that every audit line of `text` (JSON lines; lines of other logs skipped) or of `events` is valid. */
export function assertAuditLines(t: Test, text: string | object[], what = 'audit lines'): number {
  const items: (string | object)[] = typeof text === 'string' ? text.split('\n').filter((l) => l.trim() !== '') : text
  let checked = 0
  const bad: string[] = []
  for (const item of items) {
    if (typeof item === 'string') {
      let log: unknown
      try {
        log = (JSON.parse(item) as { log?: unknown }).log
      } catch {
        /* reported below */
      }
      if (log !== undefined && log !== 'audit') continue
    }
    checked++
    const problems = auditLineProblems(item)
    if (problems.length > 0 && bad.length < 5)
      bad.push(
        `${(typeof item === 'string' ? item : JSON.stringify(item)).slice(0, 300)}\n    ${problems.join('\n    ')}`,
      )
  }
  t.same(bad, [], `${checked} ${what} valid against docs/audit-events.schema.json`)
  return checked
}
