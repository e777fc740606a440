// The PrometheusRule and the Grafana dashboard against what the gateway really exports: a running
// gateway (emulator, demo app) goes through a login, a failed login and a public request, its
// /metrics is read, and every metric, label and label value the rules and the dashboard name must
// be there, with no exception: the gateway runs with a client certificate, so the certificate's
// gauge is exported too. The expressions made of gauges and numbers only are also evaluated on the
// values read: a query that names the right metric but computes the wrong thing (a remaining time
// taken for a date) is caught.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { freePort, startStack } from '../helpers/stack.js'
import { parsePrometheusText } from '../ops/prometheus-text.js'
import { CLIENT_CERTIFICATE_EXPIRY_METRIC } from '../../src/ops/client-certificate-metric.js'
import { makeTestPki, P12_PASSWORD } from '../helpers/pki.js'
import { CHART, findHelm, ROOT, template } from './helm.js'

// Labels Prometheus adds at scrape time (target labels), not the gateway.
const TARGET_LABELS = new Set(['job', 'namespace', 'pod', 'instance', 'service', 'container', 'endpoint'])

interface Exported {
  /** the samples themselves, for evaluating simple expressions */
  samples: { name: string; labels: Record<string, string>; value: number }[]
  /** metric family names (# TYPE lines) and sample names (_bucket, _sum, _count) */
  names: Set<string>
  /** label names seen per sample name */
  labels: Map<string, Set<string>>
  /** label values seen per sample name and label */
  values: Map<string, Set<string>>
}

function readExported(text: string): Exported {
  const samples = parsePrometheusText(text) as { name: string; labels: Record<string, string>; value: number }[]
  const names = new Set<string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!)
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1]! + s)
  }
  const labels = new Map<string, Set<string>>()
  const values = new Map<string, Set<string>>()
  for (const s of samples) {
    names.add(s.name)
    const set = labels.get(s.name) ?? new Set()
    for (const [k, v] of Object.entries(s.labels)) {
      set.add(k)
      const key = `${s.name}/${k}`
      values.set(key, (values.get(key) ?? new Set()).add(v))
    }
    labels.set(s.name, set)
  }
  return { samples, names, labels, values }
}

/**
 * Evaluates an expression made only of min(...)/max(...) of a gauge, time(), numbers and
 * arithmetic, on the exported samples (target labels ignored). A trailing comparison (`x < 5`) is
 * returned apart: { value: x, fires: x < 5 }. undefined for anything else (rates need two scrapes).
 */
export function evaluateSimple(
  expr: string,
  exported: Pick<Exported, 'samples'>,
  nowSeconds = Date.now() / 1000,
): { value: number; fires?: boolean } | undefined {
  let unknown = false
  let text = expr
    .replace(
      /\b(min|max)\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?\s*\)/g,
      (_m, fn: string, metric: string, body?: string) => {
        const matchers = [...(body ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|=)\s*"((?:[^"\\]|\\.)*)"/g)]
        const values = exported.samples
          .filter(
            (s) =>
              s.name === metric &&
              matchers.every(
                ([, label, op, v]) =>
                  TARGET_LABELS.has(label!) ||
                  (op === '=' ? s.labels[label!] === v : new RegExp(`^(?:${v})$`).test(s.labels[label!] ?? '')),
              ),
          )
          .map((s) => s.value)
        if (values.length === 0) unknown = true
        return `(${fn === 'min' ? Math.min(...values) : Math.max(...values)})`
      },
    )
    .replace(/\btime\(\)/g, `(${nowSeconds})`)
  if (unknown) return undefined
  const comparison = /^(.*?)\s*(<|>)\s*([0-9.e+]+)\s*$/s.exec(text)
  if (comparison) text = comparison[1]!
  if (!/^[-0-9.e+*/()\s]+$/.test(text)) return undefined
  const value = Function(`"use strict"; return (${text})`)() as number
  if (!comparison) return { value }
  const threshold = Number(comparison[3])
  return { value, fires: comparison[2] === '<' ? value < threshold : value > threshold }
}

interface Selector {
  metric: string
  matchers: { label: string; op: string; value: string }[]
}

/** metric selectors of a PromQL expression: name{label="v",...} or a bare name */
function selectorsOf(expr: string): Selector[] {
  const out: Selector[] = []
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, (s) => s.replace(/[{}]/g, ' '))
  for (const m of withoutStrings.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{([^}]*)\})?/g)) {
    const name = m[1]!
    if (!/^(psc_gateway_|process_|nodejs_)/.test(name)) continue
    const start = m.index! + m[0].indexOf('{')
    const body = m[2] ? expr.slice(start + 1, expr.indexOf('}', start)) : ''
    const matchers = [...body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map((x) => ({
      label: x[1]!,
      op: x[2]!,
      value: x[3]!,
    }))
    out.push({ metric: name, matchers })
  }
  return out
}

/** label names in by (...) / without (...) clauses */
function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]!
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
}

/** Checks one expression; returns the problems (empty when every name is real). */
function problemsOf(expr: string, exported: Exported): string[] {
  const problems: string[] = []
  const selectors = selectorsOf(expr)
  if (selectors.length === 0) problems.push(`no gateway metric in ${expr}`)
  for (const { metric, matchers } of selectors) {
    if (!exported.names.has(metric)) {
      problems.push(`${metric} is not exported`)
      continue
    }
    const labels = exported.labels.get(metric)
    for (const { label, op, value } of matchers) {
      if (TARGET_LABELS.has(label)) continue
      if (labels && !labels.has(label)) problems.push(`${metric} has no label ${label}`)
      // Equality and regex alternatives name values: each must be one the gateway can write.
      const seen = exported.values.get(`${metric}/${label}`)
      const wanted = op === '=' ? [value] : op === '=~' && /^[\w|]+$/.test(value) ? value.split('|') : []
      for (const v of wanted)
        if (seen && !seen.has(v) && !KNOWN_VALUES[`${metric}/${label}`]?.includes(v))
          problems.push(`${metric}{${label}="${v}"} never appears`)
    }
  }
  for (const label of groupingLabels(expr)) {
    if (TARGET_LABELS.has(label) || label === 'le') continue
    const carriers = selectors.filter((s) => exported.labels.get(s.metric)?.has(label))
    if (carriers.length === 0 && selectors.every((s) => exported.names.has(s.metric) && exported.labels.has(s.metric)))
      problems.push(`no metric of "${expr.slice(0, 60)}..." has label ${label}`)
  }
  return problems
}

// Values the gateway writes that this test's traffic does not produce, read from the source.
const pscClientSource = readFileSync(join(ROOT, 'src', 'oidc', 'psc-client.ts'), 'utf8')
const pscOutcomes = /export type PscCallOutcome = ([^\n]+)/
  .exec(pscClientSource)![1]!
  .match(/'([a-z_]+)'/g)!
  .map((s) => s.slice(1, -1))
// The readiness checks the gateway registers (accounts only with config.accounts, which this
// test's stack has not).
const readinessChecks = [
  ...readFileSync(join(ROOT, 'src', 'server', 'readiness-checks.ts'), 'utf8').matchAll(/\{ name: '([a-z]+)', check:/g),
].map((m) => m[1]!)
const KNOWN_VALUES: Record<string, string[]> = {
  'psc_gateway_psc_calls_total/outcome': pscOutcomes,
  'psc_gateway_readiness_check_ok/check': readinessChecks,
}

t.test('every PrometheusRule expression and dashboard query names what a running gateway exports', async (t) => {
  const adminPort = await freePort()
  // A PSC client certificate (90 days left), as in production: its gauge is exported.
  const pki = makeTestPki()
  t.teardown(() => pki.close())
  const stack = await startStack({
    adminPort,
    pscYaml: `  certificate: { pkcs12: "${pki.clientP12File}", password: "\${P12}" }\n`,
    env: { P12: P12_PASSWORD },
  })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  const landed = await loginThroughEmulator(client, `${stack.url}/dossier?format=json`, '899700218896')
  t.equal(landed.status, 200, 'a login')
  const failed = await fetch(`${stack.url}/_psc/callback?code=x&state=forged-state`, { redirect: 'manual' })
  t.ok(failed.status >= 400, `a failed login callback (${failed.status})`)
  t.equal((await fetch(`${stack.url}/public/x?format=json`)).status, 200, 'a public request')

  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text()
  const exported = readExported(text)
  t.ok(exported.values.get('psc_gateway_logins_total/outcome')?.has('failed'), 'the failed login is counted')
  t.ok(exported.values.get('psc_gateway_readiness_check_ok/check')?.has('sessions'), 'readiness checks are exported')

  const helm = findHelm()
  if (!helm) {
    t.fail('no helm binary to render the PrometheusRule (HELM_BIN, scripts/fetch-helm.sh)')
    return
  }
  const r = await template(helm, { set: { 'prometheusRule.enabled': true } })
  const rules = r
    .one('PrometheusRule')
    .spec.groups.flatMap((g: { rules: { alert: string; expr: string }[] }) => g.rules) as {
    alert: string
    expr: string
  }[]
  t.same(
    rules.map((x) => x.alert).sort(),
    [
      'PscGatewayAuditEventsDropped',
      'PscGatewayAuditWriteFailures',
      'PscGatewayClientCertificateExpiry',
      'PscGatewayLoginFailureRatio',
      'PscGatewayPscUnreachable',
      'PscGatewaySessionStoreUnavailable',
      'PscGatewayAccountDirectoryUnavailable',
    ].sort(),
  )
  t.ok(
    readinessChecks.includes('accounts') && readinessChecks.includes('sessions'),
    `readiness checks read from src/server/readiness-checks.ts: ${readinessChecks.join(', ')}`,
  )
  for (const rule of rules) {
    t.same(problemsOf(rule.expr, exported), [], `${rule.alert}: ${rule.expr.replace(/\s+/g, ' ').trim()}`)
    t.match(rule.expr, /job="gw-psc-gateway",namespace="gw"/, `${rule.alert}: this release's series only`)
  }
  const dashboard = JSON.parse(readFileSync(join(CHART, 'dashboards', 'psc-gateway.json'), 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[]
  }
  t.ok(dashboard.panels.length >= 10, `${dashboard.panels.length} panels`)
  for (const panel of dashboard.panels) {
    for (const target of panel.targets)
      t.same(problemsOf(target.expr, exported), [], `dashboard "${panel.title}": ${target.expr}`)
  }

  // What the certificate queries compute, on the real gauge (90 days left).
  t.ok(exported.names.has(CLIENT_CERTIFICATE_EXPIRY_METRIC), 'the certificate gauge is exported')
  const certificatePanels = dashboard.panels
    .flatMap((p) => p.targets.map((x) => ({ title: p.title, expr: x.expr })))
    .filter((x) => x.expr.includes(CLIENT_CERTIFICATE_EXPIRY_METRIC))
  t.equal(certificatePanels.length, 1, 'one dashboard panel shows the certificate')
  for (const panel of certificatePanels) {
    const days = evaluateSimple(panel.expr, exported)?.value
    t.ok(days !== undefined && days > 89 && days <= 90, `dashboard "${panel.title}" shows the days left: ${days}`)
  }
  const expiry = rules.find((x) => x.alert === 'PscGatewayClientCertificateExpiry')!
  t.match(
    evaluateSimple(expiry.expr, exported),
    { fires: false },
    'a certificate with 90 days left does not alert at 30 days',
  )
  const soon = (
    await template(helm, { set: { 'prometheusRule.enabled': true, 'prometheusRule.certificateExpiryDays': 100 } })
  )
    .one('PrometheusRule')
    .spec.groups[0].rules.find((x: { alert: string }) => x.alert === expiry.alert) as { expr: string }
  t.match(
    evaluateSimple(soon.expr, exported),
    { fires: true },
    'the same certificate alerts when the threshold is 100 days',
  )
})

t.test('the evaluation catches a remaining time taken for a date', async (t) => {
  const exported = {
    samples: [{ name: CLIENT_CERTIFICATE_EXPIRY_METRIC, labels: { subject: 'CN=x' }, value: 90 * 86400 }],
  }
  const now = 1_800_000_000
  t.same(evaluateSimple(`min(${CLIENT_CERTIFICATE_EXPIRY_METRIC}{job="gw"}) / 86400`, exported, now), { value: 90 })
  t.same(evaluateSimple(`min(${CLIENT_CERTIFICATE_EXPIRY_METRIC}{job="gw"}) < 2592000`, exported, now), {
    value: 90 * 86400,
    fires: false,
  })
  // The old queries: seconds left minus the current date, a large negative number (always alerting).
  t.ok(
    evaluateSimple(`(min(${CLIENT_CERTIFICATE_EXPIRY_METRIC}{job="gw"}) - time()) / 86400`, exported, now)!.value <
      -20000,
  )
  t.match(evaluateSimple(`min(${CLIENT_CERTIFICATE_EXPIRY_METRIC}{job="gw"}) - time() < 2592000`, exported, now), {
    fires: true,
  })
  t.equal(
    evaluateSimple('sum(rate(psc_gateway_logins_total[5m]))', exported, now),
    undefined,
    'not a simple expression',
  )
})

t.test('the checker finds a wrong name, label or value (the test can fail)', async (t) => {
  const exported = readExported(
    ['# TYPE psc_gateway_logins_total counter', 'psc_gateway_logins_total{outcome="started",reason=""} 1'].join('\n'),
  )
  t.same(problemsOf('rate(psc_gateway_logins_total{outcome="started"}[5m])', exported), [])
  t.same(problemsOf('rate(psc_gateway_login_total[5m])', exported), ['psc_gateway_login_total is not exported'])
  t.same(problemsOf('psc_gateway_logins_total{result="ok"}', exported), [
    'psc_gateway_logins_total has no label result',
  ])
  t.same(problemsOf('psc_gateway_logins_total{outcome="sucess"}', exported), [
    'psc_gateway_logins_total{outcome="sucess"} never appears',
  ])
  t.same(problemsOf('sum by (route) (psc_gateway_logins_total)', exported), [
    'no metric of "sum by (route) (psc_gateway_logins_total)..." has label route',
  ])
})

t.test('the dashboard ConfigMap carries the dashboard file with the Grafana sidecar label', async (t) => {
  const helm = findHelm()
  if (!helm) return t.fail('no helm binary')
  const r = await template(helm, {
    set: { 'grafanaDashboard.enabled': true },
    setString: { 'grafanaDashboard.namespace': 'monitoring' },
  })
  const cm = r.all('ConfigMap').find((c) => c.metadata.name === 'gw-psc-gateway-dashboard')!
  t.equal(cm.metadata.namespace, 'monitoring')
  t.equal(cm.metadata.labels!.grafana_dashboard, '1')
  t.same(
    JSON.parse(cm.data['psc-gateway.json']),
    JSON.parse(readFileSync(join(CHART, 'dashboards', 'psc-gateway.json'), 'utf8')),
  )
})
