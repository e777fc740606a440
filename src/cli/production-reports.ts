// The command-line side of doctor, raccordement and the production lines of `check`: load the
// configuration, run, print text or JSON, and give the exit code.
import { existsSync } from 'node:fs'
import { ConfigError } from '../config/config-error.js'
import { loadConfigFile } from '../config/load.js'
import type { GatewayConfig } from '../config/types.js'
import { formatDoctorReport, runDoctor, type DoctorReport } from '../ops/doctor.js'
import { DOCTOR_TEXT, type CliLanguage } from '../ops/doctor-text.js'
import { buildOnboardingSheet, formatOnboardingSheet } from '../ops/raccordement.js'
import { buildDatapassSheet, formatDatapassSheet } from '../ops/raccordement-datapass.js'

type Out = { stdout: (s: string) => void; stderr: (s: string) => void }
const std: Out = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }

export async function doctorCommand(
  file: string,
  json: boolean,
  out: Out = std,
  lang: CliLanguage = 'fr',
): Promise<number> {
  const m = DOCTOR_TEXT[lang]
  let report: DoctorReport
  try {
    if (!existsSync(file))
      report = {
        ok: false,
        checks: [{ name: 'config', verdict: 'fail', detail: m.fileNotFound(file), todo: m.fileNotFoundTodo }],
      }
    else {
      const { config, warnings } = loadConfigFile(file)
      report = await runDoctor(config, warnings, { lang })
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    report = { ok: false, checks: [{ name: 'config', verdict: 'fail', detail: err.message, todo: m.configFix(file) }] }
  }
  out.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report, lang))
  return report.ok ? 0 : 1
}

export function raccordementCommand(
  file: string,
  json: boolean,
  users: string | undefined,
  out: Out = std,
  lang: CliLanguage = 'fr',
): number {
  const fr = lang === 'fr'
  let n: number | undefined
  if (users !== undefined) {
    n = Number(users)
    if (!Number.isInteger(n) || n < 1) {
      out.stderr(
        fr
          ? `psc-gateway : --users attend un nombre entier d'au moins 1, reçu « ${users} »\n`
          : `psc-gateway: --users expects a whole number of at least 1, got "${users}"\n`,
      )
      return 2
    }
  }
  if (!existsSync(file)) {
    out.stderr(`psc-gateway${fr ? ' :' : ':'} ${DOCTOR_TEXT[lang].fileNotFound(file)}\n`)
    return 1
  }
  let config: GatewayConfig
  try {
    config = loadConfigFile(file).config
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    out.stderr(
      `${fr ? 'psc-gateway : configuration invalide :' : 'psc-gateway: invalid configuration:'}\n${err.message}\n`,
    )
    return 1
  }
  const sheet = buildOnboardingSheet(config, { users: n, lang })
  // Datapass comes first at ANS: its sheet is printed before the per-environment form's.
  const datapass = buildDatapassSheet(config)
  out.stdout(
    json
      ? `${JSON.stringify({ ...sheet, datapass }, null, 2)}\n`
      : `${formatDatapassSheet(datapass)}\n${formatOnboardingSheet(sheet)}`,
  )
  return sheet.problems.length === 0 ? 0 : 1
}

/** What `check` adds about the way to PSC: proxy, CA, certificate (never its key), registered URLs. */
export function describePscConnection(config: GatewayConfig): string {
  const o = config.psc.outbound
  const lines: string[] = []
  const p = o.proxy
  lines.push(
    `Outbound proxy: ${p.kind === 'direct' ? 'none (direct, HTTPS_PROXY ignored)' : p.kind === 'environment' ? 'from HTTPS_PROXY/HTTP_PROXY/NO_PROXY when set' : `${new URL(p.url).origin}${p.username ? ` (user ${p.username})` : ''}${p.noProxy.length ? `, not for ${p.noProxy.join(', ')}` : ''}`}`,
  )
  if (o.ca) lines.push(`CA bundle: ${o.ca.file} (${o.ca.certificates.map((c) => c.subject).join('; ')})`)
  const c = o.certificate
  if (c)
    lines.push(
      `Client certificate: ${c.source}\n  subject ${c.info.subject}\n  issuer  ${c.info.issuer}\n  expires ${new Date(c.info.validTo).toISOString()}`,
    )
  lines.push(`Client authentication: ${config.psc.clientAuth}`)
  if (config.psc.onboarding.registered)
    lines.push(
      `Registered URLs: ${config.psc.redirectUri} and ${config.psc.postLogoutRedirectUri} match psc.registered`,
    )
  return `${lines.join('\n')}\n`
}
