// The directory check the `doctor` command runs: connect (LDAPS or StartTLS, the CA verified),
// bind as the service account, read the search base, and look one account up with the configured
// filter: a known practitioner's, or any entry the filter can match.
import type { LdapSettings } from '../config/types.js'
import type { Identity } from '../psc/identity.js'
import { connectBound, discard, DirectoryTimeout, tlsOptionsFor, withDeadline } from './ldap-pool.js'
import { describeDirectoryError } from './ldap-source.js'
import { filterFor } from './ldap-text.js'

/**
 * What went wrong, for the doctor's advice: the CA file, the network (refused, no route, name
 * unknown), the directory silent past the timeout, TLS (certificate), the bind refused (DN or
 * password), the base DN, or the search: nobody matches, several entries, a disabled account.
 */
export type LdapProblem =
  | 'ca-file'
  | 'unreachable'
  | 'timeout'
  | 'tls'
  | 'bind'
  | 'base'
  | 'no-match'
  | 'duplicate'
  | 'disabled'
  | 'error'

export interface LdapHealthStep {
  step: 'tls' | 'bind' | 'base' | 'search'
  ok: boolean
  detail: string
  problem?: LdapProblem
}
export interface LdapHealth {
  ok: boolean
  steps: LdapHealthStep[]
}

const ACCOUNTDISABLE = 0x2
const NETWORK = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'ETIMEDOUT',
])

/** The kind of a connect, bind or search failure. */
export function classifyDirectoryError(err: unknown, step: 'bind' | 'base' | 'search'): LdapProblem {
  if (err instanceof DirectoryTimeout) return 'timeout'
  const e = err as { code?: unknown; message?: string; name?: string }
  if (typeof e.code === 'string' && NETWORK.has(e.code)) return 'unreachable'
  if (typeof e.code === 'string' && /CERT|SELF_SIGNED|TLS|SSL|HOSTNAME|ALTNAME/i.test(e.code)) return 'tls'
  if (e.code === 49 || e.name === 'InvalidCredentialsError') return 'bind'
  if (/timed out|timeout/i.test(e.message ?? '')) return 'timeout'
  if (step === 'base' && (e.code === 32 || e.name === 'NoSuchObjectError')) return 'base'
  return step === 'bind' ? 'bind' : 'error'
}

/**
 * Bind and a test search, each within settings.timeoutMs. `probe` (an RPPS or idNat known to be in
 * the directory) searches that practitioner with the configured filter; without it, any entry the
 * filter matches ({rpps} and {idNat} as "*"). Never throws; never reports the password.
 */
export async function ldapHealthCheck(
  settings: LdapSettings,
  probe?: { rpps?: string; idNat?: string },
): Promise<LdapHealth> {
  const steps: LdapHealthStep[] = []
  const done = (): LdapHealth => ({ ok: steps.every((s) => s.ok), steps })
  let tls: ReturnType<typeof tlsOptionsFor>
  try {
    tls = tlsOptionsFor(settings)
  } catch (err) {
    steps.push({
      step: 'tls',
      ok: false,
      detail: `cannot read caFile ${settings.caFile ?? ''}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      problem: 'ca-file',
    })
    return done()
  }
  let client: Awaited<ReturnType<typeof connectBound>>
  try {
    client = await withDeadline(connectBound(settings, tls), settings.timeoutMs)
    steps.push({
      step: 'bind',
      ok: true,
      detail: `bound to ${settings.url} as ${settings.bindDn}${settings.startTls ? ' (StartTLS)' : ''}`,
    })
  } catch (err) {
    steps.push({
      step: 'bind',
      ok: false,
      detail: `${settings.url} as ${settings.bindDn}: ${describeDirectoryError(err)}`,
      problem: classifyDirectoryError(err, 'bind'),
    })
    return done()
  }
  let step: 'base' | 'search' = 'base'
  try {
    await withDeadline(
      client.search(settings.baseDn, { scope: 'base', filter: '(objectClass=*)', attributes: ['1.1'] }),
      settings.timeoutMs,
    )
    steps.push({ step: 'base', ok: true, detail: `baseDn ${settings.baseDn} readable` })
    step = 'search'
    const filter = probe === undefined ? anyEntryFilter(settings.filter) : probeFilter(settings.filter, probe)
    if (filter === undefined) {
      steps.push({ step: 'search', ok: false, detail: 'the filter needs {rpps}: give an RPPS', problem: 'no-match' })
    } else {
      const { searchEntries } = await withDeadline(
        client.search(settings.baseDn, {
          scope: 'sub',
          filter,
          attributes: [settings.loginAttribute, settings.groupsAttribute, 'userAccountControl'],
          sizeLimit: 2,
        }),
        settings.timeoutMs,
      )
      const first = searchEntries[0]
      const login = first?.[settings.loginAttribute]
      const control = Number(
        Array.isArray(first?.userAccountControl) ? first.userAccountControl[0] : first?.userAccountControl,
      )
      if (searchEntries.length === 0) {
        steps.push({
          step: 'search',
          ok: false,
          detail: `${filter}: no entry under ${settings.baseDn}`,
          problem: 'no-match',
        })
      } else if (probe !== undefined && searchEntries.length > 1) {
        steps.push({
          step: 'search',
          ok: false,
          detail: `${filter}: several entries (${searchEntries.map((e) => e.dn).join('; ')})`,
          problem: 'duplicate',
        })
      } else if (login === undefined) {
        steps.push({
          step: 'search',
          ok: false,
          detail: `${filter}: ${first!.dn} has no ${settings.loginAttribute}`,
          problem: 'no-match',
        })
      } else if (probe !== undefined && Number.isInteger(control) && (control & ACCOUNTDISABLE) !== 0) {
        steps.push({
          step: 'search',
          ok: false,
          detail: `${filter}: ${String(login)} is disabled (userAccountControl ${control})`,
          problem: 'disabled',
        })
      } else {
        steps.push({ step: 'search', ok: true, detail: `${filter}: ${String(login)}` })
      }
    }
  } catch (err) {
    steps.push({ step, ok: false, detail: describeDirectoryError(err), problem: classifyDirectoryError(err, step) })
  } finally {
    discard(client)
  }
  return done()
}

function probeFilter(template: string, probe: { rpps?: string; idNat?: string }): string | undefined {
  const idNat = probe.idNat ?? (probe.rpps !== undefined ? `8${probe.rpps}` : '')
  const rpps = probe.rpps ?? (/^8\d{11}$/.test(idNat) ? idNat.slice(1) : undefined)
  return filterFor(template, { idNat, ...(rpps !== undefined && { rpps }) } as Pick<Identity, 'idNat' | 'rpps'>)
}

/** The filter with its placeholders as "*": what any practitioner's search could find. */
export function anyEntryFilter(template: string): string {
  return template.replaceAll('{rpps}', '*').replaceAll('{idNat}', '*')
}
