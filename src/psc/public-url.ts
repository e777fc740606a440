// What makes a publicUrl unfit for production, as pure rules: browsers, cookies and ANS's registration
// all need one plain DNS name (no loopback, no IP, no credentials, no query, no trailing dot, no "_").
// The configuration refuses these in production; `raccordement` names each one.

export type PublicUrlRule =
  | 'not-a-url'
  | 'loopback'
  | 'ip-address'
  | 'credentials'
  | 'query'
  | 'fragment'
  | 'trailing-dot'
  | 'underscore'

export interface PublicUrlProblem {
  rule: PublicUrlRule
  /** English, for the configuration error */
  message: string
  /** French, for `raccordement` */
  messageFr: string
}

const IPV4 = /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/
// Only the authority: `new URL` drops a lone "?" or "#", and folds a trailing dot into the host.
const AUTHORITY = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i

function isLoopbackName(host: string): boolean {
  const h = host.replace(/\.$/, '').toLowerCase()
  return (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    /^127\./.test(h) ||
    h === '[::1]' ||
    h === '0.0.0.0' ||
    h === '[::]'
  )
}

/** Each rule `written` breaks; empty when it is a plain https origin on a DNS name. */
export function publicUrlProblems(written: string): PublicUrlProblem[] {
  let url: URL
  try {
    url = new URL(written)
  } catch {
    return [{ rule: 'not-a-url', message: 'not an absolute URL', messageFr: "ce n'est pas une URL absolue" }]
  }
  const problems: PublicUrlProblem[] = []
  const authority = AUTHORITY.exec(written)?.[1] ?? url.host
  const host = url.hostname
  if (isLoopbackName(host)) {
    problems.push({
      rule: 'loopback',
      message: `${host} is a loopback address: browsers of other machines cannot reach it`,
      messageFr: `${host} est une adresse locale : aucun autre poste ne peut l'atteindre`,
    })
  } else if (IPV4.test(host) || host.startsWith('[')) {
    problems.push({
      rule: 'ip-address',
      message: `${host} is an IP address: use the gateway's DNS name (ANS refuses IP addresses, TLS certificates name hosts)`,
      messageFr: `${host} est une adresse IP : utilisez le nom DNS de la passerelle (l'ANS refuse les adresses IP)`,
    })
  }
  if (authority.includes('@')) {
    problems.push({
      rule: 'credentials',
      message: 'carries a user name or password (user:pw@): remove them',
      messageFr: 'contient un identifiant ou un mot de passe (user:pw@) : retirez-les',
    })
  }
  if (written.includes('?')) {
    problems.push({
      rule: 'query',
      message: 'carries a query string (?...): publicUrl is an origin only',
      messageFr: 'contient une chaîne de requête (?…) : publicUrl est une origine seule',
    })
  }
  if (written.includes('#')) {
    problems.push({
      rule: 'fragment',
      message: 'carries a fragment (#...): publicUrl is an origin only',
      messageFr: 'contient un fragment (#…) : publicUrl est une origine seule',
    })
  }
  const writtenHost = authority.slice(authority.lastIndexOf('@') + 1).replace(/:[0-9]*$/, '')
  if (writtenHost.endsWith('.') || host.endsWith('.')) {
    problems.push({
      rule: 'trailing-dot',
      message: `the host ends with a dot (${writtenHost}): cookies and ANS's exact comparison of URLs treat it as another host`,
      messageFr: `le nom d'hôte se termine par un point (${writtenHost}) : les cookies et la comparaison exacte des URL par l'ANS le traitent comme un autre hôte`,
    })
  }
  if (host.includes('_')) {
    problems.push({
      rule: 'underscore',
      message: `the host ${host} has an underscore: not a valid host name (browsers and certificates refuse it)`,
      messageFr: `le nom d'hôte ${host} contient un « _ » : ce n'est pas un nom d'hôte valide (navigateurs et certificats le refusent)`,
    })
  }
  return problems
}
