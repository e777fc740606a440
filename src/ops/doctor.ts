// `psc-gateway doctor`: run on the server where the gateway will run, before the first practitioner
// does. Each check says what it found and what to do; nothing logs anyone in. The checks run in
// order here (configuration, network, certificate, TLS and discovery, clock, keys, client
// authentication, registered URLs, directory); each is in its own file (doctor-*.ts).
import type { GatewayConfig } from '../config/types.js'
import { OutboundHttp, proxyFor } from '../oidc/outbound-http.js'
import type { DoctorCheck, DoctorReport, Verdict } from './doctor-check.js'
import { certificateCheck, clientAuthCheck } from './doctor-client-auth.js'
import { directoryCheck } from './doctor-directory.js'
import { answeredCheck, clockCheck, discoveryCheck, jwksCheck } from './doctor-discovery.js'
import { dnsCheck, proxyCheck, proxySource, type Env } from './doctor-network.js'
import { diagnose, isCertificateRefusal } from './doctor-tls.js'
import { DOCTOR_TEXT, type CliLanguage } from './doctor-text.js'
import { PSC_ERR_OUTBOUND_PROXY, PSC_ERR_PSC_TLS } from '../errors.js'

export type { DoctorCheck, DoctorReport, Verdict } from './doctor-check.js'
export { MAX_CLOCK_SKEW_S } from './doctor-discovery.js'

export interface DoctorOptions {
  env?: Env
  now?: () => number
  timeoutMs?: number
  /** the language of the findings: French by default */
  lang?: CliLanguage
}

export async function runDoctor(
  config: GatewayConfig,
  warnings: string[],
  opts: DoctorOptions = {},
): Promise<DoctorReport> {
  const env = opts.env ?? process.env
  const now = opts.now ?? Date.now
  const timeoutMs = opts.timeoutMs ?? config.psc.httpTimeoutMs
  const psc = config.psc
  const m = DOCTOR_TEXT[opts.lang ?? 'fr']
  const checks: DoctorCheck[] = []
  const add = (c: DoctorCheck) => {
    checks.push(c)
  }
  const http = new OutboundHttp(psc.outbound, env)
  try {
    add(
      warnings.length === 0
        ? { name: 'config', verdict: 'ok', detail: m.configOk(config.source) }
        : {
            name: 'config',
            verdict: 'warn',
            detail: m.configWarnings(config.source, warnings.length, warnings.join('; ')),
            todo: m.configWarningsTodo,
          },
    )

    const discoveryUrl = new URL(psc.discoveryUrl)
    const proxy = proxyFor(discoveryUrl, psc.outbound.proxy, env)
    add(await dnsCheck([discoveryUrl.hostname, new URL(psc.issuer).hostname], proxy !== undefined, m))
    if (proxy === undefined) {
      add({ name: 'proxy', verdict: 'skip', detail: m.noProxy, todo: m.noProxyTodo })
    } else {
      add(await proxyCheck(proxy, discoveryUrl, timeoutMs, proxySource(discoveryUrl, psc, env), m))
    }

    add(certificateCheck(psc, now(), m))

    // discovery, with TLS as the gateway will use it (CA bundle, client certificate, proxy)
    let metadata: Record<string, unknown> | undefined
    let serverDate: number | undefined
    try {
      const res = await http.fetch(discoveryUrl, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: { accept: 'application/json' },
      })
      const date = res.headers.get('date')
      if (date !== null) serverDate = Date.parse(date)
      const receivedAt = now()
      if (discoveryUrl.protocol === 'https:') {
        add({ name: 'tls', verdict: 'ok', detail: m.tlsOk(discoveryUrl.host, psc.outbound.ca?.file) })
      } else {
        add({ name: 'tls', verdict: 'warn', detail: m.tlsHttp(discoveryUrl.host), todo: m.tlsHttpTodo })
      }
      if (!res.ok) {
        add(answeredCheck(discoveryUrl, res.status, http.proxyOf(discoveryUrl), m))
      } else {
        try {
          metadata = (await res.json()) as Record<string, unknown>
        } catch {
          add({ name: 'discovery', verdict: 'fail', detail: m.notJson(discoveryUrl.href), todo: m.notJsonTodo })
        }
      }
      if (metadata !== undefined) add(discoveryCheck(metadata, psc, m))
      add(clockCheck(serverDate, receivedAt, m))
    } catch (err) {
      const failure = await diagnose(http, err, discoveryUrl, timeoutMs)
      if (failure.code === PSC_ERR_PSC_TLS) {
        add({ name: 'tls', verdict: 'fail', detail: m.failure(failure.code, failure.message), todo: m.tlsFailTodo })
      } else {
        add({ name: 'tls', verdict: 'skip', detail: m.notReached })
      }
      add({
        name: 'discovery',
        verdict: 'fail',
        detail: m.failure(failure.code, failure.message),
        todo:
          failure.code === PSC_ERR_OUTBOUND_PROXY
            ? m.proxyFailureTodo
            : isCertificateRefusal(failure)
              ? m.certificateRefusedTodo
              : m.reachTodo,
      })
      add({ name: 'clock', verdict: 'skip', detail: m.notReached })
    }

    if (metadata === undefined) {
      add({ name: 'jwks', verdict: 'skip', detail: m.noDiscovery })
      add({ name: 'client-auth', verdict: 'skip', detail: m.noDiscovery })
    } else {
      add(await jwksCheck(http, metadata, timeoutMs, m))
      add(await clientAuthCheck(http, metadata, psc, timeoutMs, m))
    }

    add(
      psc.onboarding.registered === undefined
        ? {
            name: 'registered-urls',
            verdict: 'warn',
            detail: m.registeredMissing(psc.redirectUri, psc.postLogoutRedirectUri),
            todo: m.registeredMissingTodo,
          }
        : {
            name: 'registered-urls',
            verdict: 'ok',
            detail: m.registeredOk(psc.redirectUri, psc.postLogoutRedirectUri),
          },
    )
    const directory = await directoryCheck(config.accounts, opts.lang ?? 'fr')
    if (directory !== undefined) add(directory)
  } finally {
    await http.close()
  }
  return { ok: !checks.some((c) => c.verdict === 'fail'), checks }
}

const MARK: Record<Verdict, string> = { ok: ' OK ', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' }

export function formatDoctorReport(report: DoctorReport, lang: CliLanguage = 'fr'): string {
  const m = DOCTOR_TEXT[lang]
  const colon = lang === 'fr' ? ' :' : ':'
  const lines = report.checks.map(
    (c) =>
      `[${MARK[c.verdict]}] ${c.name}${colon} ${c.detail}${c.todo && c.verdict !== 'ok' ? `\n       → ${c.todo}` : ''}`,
  )
  lines.push('', report.ok ? m.summaryOk : m.summaryFailed(report.checks.filter((c) => c.verdict === 'fail').length))
  return `${lines.join('\n')}\n`
}
