// The directory check the `doctor` command runs: connect (LDAPS or StartTLS, the CA verified),
// bind as the service account, read the search base, and optionally search one known practitioner.
import type { LdapSettings } from '../config/types.js'
import type { Identity } from '../psc/identity.js'
import { connectBound, discard, tlsOptionsFor, withDeadline } from './ldap-pool.js'
import { describeDirectoryError } from './ldap-source.js'
import { filterFor } from './ldap-text.js'

export interface LdapHealthStep { step: 'tls' | 'bind' | 'base' | 'search'; ok: boolean; detail: string }
export interface LdapHealth { ok: boolean; steps: LdapHealthStep[] }

/**
 * Bind and a test search, each within settings.timeoutMs. `probe` (an RPPS or idNat known to be in
 * the directory) adds a search with the configured filter. Never throws; never reports the password.
 */
export async function ldapHealthCheck (settings: LdapSettings, probe?: { rpps?: string; idNat?: string }): Promise<LdapHealth> {
  const steps: LdapHealthStep[] = []
  const done = (): LdapHealth => ({ ok: steps.every((s) => s.ok), steps })
  let tls
  try {
    tls = tlsOptionsFor(settings)
  } catch (err) {
    steps.push({ step: 'tls', ok: false, detail: `cannot read caFile ${settings.caFile ?? ''}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` })
    return done()
  }
  let client
  try {
    client = await withDeadline(connectBound(settings, tls), settings.timeoutMs)
    steps.push({ step: 'bind', ok: true, detail: `bound to ${settings.url} as ${settings.bindDn}${settings.startTls ? ' (StartTLS)' : ''}` })
  } catch (err) {
    steps.push({ step: 'bind', ok: false, detail: `${settings.url} as ${settings.bindDn}: ${describeDirectoryError(err)}` })
    return done()
  }
  try {
    await withDeadline(client.search(settings.baseDn, { scope: 'base', filter: '(objectClass=*)', attributes: ['1.1'] }), settings.timeoutMs)
    steps.push({ step: 'base', ok: true, detail: `baseDn ${settings.baseDn} readable` })
    if (probe !== undefined) {
      const idNat = probe.idNat ?? (probe.rpps !== undefined ? `8${probe.rpps}` : '')
      const filter = filterFor(settings.filter, { idNat, ...(probe.rpps !== undefined && { rpps: probe.rpps }) } as Pick<Identity, 'idNat' | 'rpps'>)
      if (filter === undefined) {
        steps.push({ step: 'search', ok: false, detail: 'the filter needs {rpps}: give an RPPS' })
      } else {
        const { searchEntries } = await withDeadline(client.search(settings.baseDn, { scope: 'sub', filter, attributes: [settings.loginAttribute, settings.groupsAttribute], sizeLimit: 2 }), settings.timeoutMs)
        const login = searchEntries[0]?.[settings.loginAttribute]
        steps.push(searchEntries.length === 1 && login !== undefined
          ? { step: 'search', ok: true, detail: `${filter}: ${String(login)}` }
          : { step: 'search', ok: false, detail: `${filter}: ${searchEntries.length} entries${searchEntries.length === 1 ? `, no ${settings.loginAttribute}` : ''}` })
      }
    }
  } catch (err) {
    steps.push({ step: steps.length === 1 ? 'base' : 'search', ok: false, detail: describeDirectoryError(err) })
  } finally {
    discard(client)
  }
  return done()
}
