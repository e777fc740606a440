// The two pieces of LDAP text the gateway writes or reads itself: a search filter with the
// practitioner's identifier in it (escaped, RFC 4515: an idNat such as "5000.../CPAT00045" or a
// crafted value must never change the filter's meaning), and a group's name from its DN.
import type { Identity } from '../psc/identity.js'

/** RFC 4515 §3: `*`, `(`, `)`, `\` and NUL as \XX; and every non-ASCII byte, so the filter stays ASCII. */
export function escapeFilterValue(value: string): string {
  let out = ''
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte)
    out +=
      byte < 0x20 || byte > 0x7e || c === '*' || c === '(' || c === ')' || c === '\\'
        ? `\\${byte.toString(16).padStart(2, '0')}`
        : c
  }
  return out
}

/** The configured filter for this practitioner, or undefined when it needs an identifier they lack (no RPPS). */
export function filterFor(template: string, identity: Pick<Identity, 'idNat' | 'rpps'>): string | undefined {
  if (template.includes('{rpps}') && identity.rpps === undefined) return undefined
  return template
    .replaceAll('{rpps}', escapeFilterValue(identity.rpps ?? ''))
    .replaceAll('{idNat}', escapeFilterValue(identity.idNat))
}

/** "CN=DPI Admins\\, Nord,OU=Groupes,DC=h" → "DPI Admins, Nord": the value of the first RDN (RFC 4514 escapes undone). */
export function firstRdnValue(dn: string): string {
  const eq = dn.indexOf('=')
  if (eq === -1) return dn
  let out = ''
  const bytes: number[] = []
  const flush = () => {
    if (bytes.length) {
      out += Buffer.from(bytes).toString('utf8')
      bytes.length = 0
    }
  }
  for (let i = eq + 1; i < dn.length; i++) {
    const c = dn[i]!
    if (c === '\\') {
      const hex = dn.slice(i + 1, i + 3)
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16))
        i += 2
        continue
      }
      flush()
      if (i + 1 < dn.length) out += dn[++i]
      continue
    }
    if (c === ',' || c === '+') break
    flush()
    out += c
  }
  flush()
  return out.trim()
}
