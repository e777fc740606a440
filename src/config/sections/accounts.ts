// accounts: local accounts of the protected application (a mapping file or an LDAP directory),
// checked and converted to the settings src/accounts/ reads; the routes' account conditions
// (access.groups, access.account). The named establishments routes use are structure-sets.ts.
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path'
import { Type } from '@sinclair/typebox'
import { FilterParser } from 'ldapts'
import type { Checks, ConfigSection } from '../checks.js'
import { parseDuration } from '../duration.js'
import { Duration, NonEmpty } from '../formats.js'
import type { RawConfig } from '../schema.js'
import { type Err, ignore, resolveRouteStructures } from './structure-sets.js'

export const AccessGroups = Type.Optional(
  Type.Array(NonEmpty('A group of the local account (compared case-insensitively)'), {
    minItems: 1,
    description: 'The local account must be in one of these groups (implies account: required)',
  }),
)
export const AccessAccount = Type.Optional(
  Type.Literal('required', {
    description:
      'Without a local account the practitioner gets the "account not open" page (default: forwarded without account headers)',
  }),
)

const LdapSettings = Type.Object(
  {
    url: Type.String({
      pattern: '^ldaps?://[^\\s/]+/?$',
      description: 'ldaps://host:636 or ldap://host:389 (then startTls: true)',
    }),
    startTls: Type.Boolean({ default: false, description: 'Upgrade an ldap:// connection with StartTLS' }),
    caFile: Type.Optional(NonEmpty("The hospital's CA bundle (PEM) that signed the directory's certificate")),
    allowInsecure: Type.Boolean({
      default: false,
      description: 'Allow ldap:// without StartTLS (the bind password travels in clear: tests only)',
    }),
    bindDn: NonEmpty('The service account the gateway binds as, e.g. CN=svc-psc,OU=Services,DC=hopital,DC=local'),
    bindPassword: NonEmpty('Its password; keep it out of the file: ${LDAP_BIND_PASSWORD} or ${file:/run/secrets/ldap}'),
    baseDn: NonEmpty('Where users are searched, e.g. OU=Utilisateurs,DC=hopital,DC=local'),
    filter: Type.String({
      minLength: 1,
      default: '(&(objectClass=user)(employeeID={rpps}))',
      description: "LDAP filter; {rpps} and {idNat} are replaced by the practitioner's, escaped (RFC 4515)",
    }),
    loginAttribute: Type.String({
      minLength: 1,
      default: 'sAMAccountName',
      description: 'The attribute holding the application login',
    }),
    displayNameAttribute: Type.String({ minLength: 1, default: 'displayName' }),
    groupsAttribute: Type.String({
      minLength: 1,
      default: 'memberOf',
      description: "The attribute listing the groups' DNs; a group's name is its first RDN value (CN)",
    }),
    nestedGroups: Type.Boolean({
      default: false,
      description: 'Active Directory: also the groups of groups (LDAP_MATCHING_RULE_IN_CHAIN search under groupBaseDn)',
    }),
    groupBaseDn: Type.Optional(NonEmpty('Where groups are searched for nestedGroups (default: baseDn)')),
    timeout: Duration({ default: '5s', description: 'Connect and per-operation timeout' }, { timer: true }),
    poolSize: Type.Integer({
      minimum: 1,
      maximum: 16,
      default: 2,
      description: 'Bound connections kept open to the directory',
    }),
    cacheTtl: Duration(
      { default: '10m', description: 'How long an answer is used without asking the directory again' },
      { timer: true },
    ),
    negativeCacheTtl: Duration({ default: '1m', description: 'How long "no account" is remembered' }, { timer: true }),
    staleLimit: Duration(
      { default: '8h', description: 'Directory down: cached answers are used up to this age' },
      { timer: true },
    ),
    cacheMax: Type.Integer({
      minimum: 1,
      default: 10000,
      description: 'Most answers cached (least recently used evicted)',
    }),
    testIdNat: Type.Optional(
      Type.String({
        pattern: '^[0-9A-Za-z/.-]{1,40}$',
        description:
          'The idNat of a practitioner known to the directory: `doctor` looks this account up (default: any entry the filter matches)',
      }),
    ),
  },
  { additionalProperties: false },
)

export const AccountsSchema = Type.Object(
  {
    source: Type.Union([Type.Literal('file'), Type.Literal('ldap')], {
      description: 'file: a mapping file (CSV or YAML); ldap: an LDAP directory or Active Directory',
    }),
    file: Type.Optional(
      NonEmpty('The mapping file (.csv, .yaml or .yml), relative to this configuration file; re-read when it changes'),
    ),
    ldap: Type.Optional(LdapSettings),
    contact: Type.String({
      minLength: 1,
      default: "le support informatique de l'établissement",
      description:
        'Whom the "account not open" page tells the practitioner to contact, e.g. "le secrétariat du DPI (poste 4321)"',
    }),
    refreshEvery: Duration(
      { default: '15m', description: 'A found account is looked up again with the session at this interval' },
      { timer: true },
    ),
    retryEvery: Duration(
      { default: '30s', description: 'No account, or directory down: a session looks again at most this often' },
      { timer: true },
    ),
  },
  {
    additionalProperties: false,
    description:
      'Local accounts of the protected application, found at login (headers accountLogin, accountGroups, accountName)',
  },
)

/** Where local accounts come from (see src/accounts/). */
export interface AccountsSettings {
  source: 'file' | 'ldap'
  /** absolute path of the mapping file (source file) */
  file?: string
  ldap?: LdapSettings
  /** whom the "account not open" page names */
  contact: string
  refreshEveryMs: number
  retryEveryMs: number
}

export interface LdapSettings {
  /** ldaps://host:port or ldap://host:port, no trailing slash */
  url: string
  startTls: boolean
  /** absolute path of the CA bundle (PEM) */
  caFile?: string
  bindDn: string
  /** never logged */
  bindPassword: string
  baseDn: string
  /** with {rpps} and/or {idNat} */
  filter: string
  loginAttribute: string
  displayNameAttribute: string
  groupsAttribute: string
  nestedGroups: boolean
  groupBaseDn?: string
  timeoutMs: number
  poolSize: number
  cacheTtlMs: number
  negativeCacheTtlMs: number
  staleLimitMs: number
  cacheMax: number
  /** for `doctor` only */
  testIdNat?: string
}

const ACCOUNT_FIELDS = new Set(['accountLogin', 'accountName', 'accountGroups'])

/** The accounts section, checked and in the units the rest of the gateway reads. */
function resolveAccounts(raw: RawConfig, configFile: string, err: Err): AccountsSettings | undefined {
  const usesAccountHeader = Object.entries(raw.headers.identity).find(
    ([, field]) => typeof field === 'string' && ACCOUNT_FIELDS.has(field),
  )
  const a = raw.accounts
  if (a === undefined) {
    if (usesAccountHeader !== undefined) {
      err(
        ['headers', 'identity', usesAccountHeader[0]],
        `"${String(usesAccountHeader[1])}" needs a source of local accounts: add an "accounts" section`,
      )
    }
    return undefined
  }
  // durations are checked for the whole file (duration-keys.ts)
  const ms = (_path: string[], text: string): number => parseDuration(text) ?? 0
  const settings: AccountsSettings = {
    source: a.source,
    contact: a.contact,
    refreshEveryMs: ms(['accounts', 'refreshEvery'], a.refreshEvery),
    retryEveryMs: ms(['accounts', 'retryEvery'], a.retryEvery),
  }
  if (a.source === 'file') {
    if (a.file === undefined)
      err(['accounts', 'source'], 'source "file" needs accounts.file, the mapping file (.csv or .yaml)')
    if (a.ldap !== undefined)
      err(['accounts', 'ldap'], 'ldap applies to source "ldap" only; set source: ldap or remove it', true)
  } else {
    if (a.ldap === undefined)
      err(['accounts', 'source'], 'source "ldap" needs accounts.ldap (url, bindDn, bindPassword, baseDn)')
    if (a.file !== undefined)
      err(['accounts', 'file'], 'file applies to source "file" only; set source: file or remove it', true)
  }
  const base = configFile.startsWith('<') ? process.cwd() : dirname(configFile)
  const inFileDir = (p: string): string => (isAbsolute(p) ? p : resolvePath(base, p))
  if (a.file !== undefined) {
    settings.file = inFileDir(a.file)
    if (!/\.(csv|ya?ml)$/i.test(a.file))
      err(['accounts', 'file'], `expected a .csv, .yaml or .yml file, got ${JSON.stringify(a.file)}`)
  }
  const l = a.ldap
  if (l !== undefined) {
    const at = (key: string): string[] => ['accounts', 'ldap', key]
    const secure = l.url.startsWith('ldaps://')
    if (secure && l.startTls)
      err(at('startTls'), 'startTls upgrades an ldap:// connection; an ldaps:// URL is already TLS: remove startTls')
    if (!secure && !l.startTls && !l.allowInsecure) {
      err(
        at('url'),
        'an ldap:// directory without startTls would receive the bind password in clear: use ldaps://, or startTls: true',
      )
    }
    if (!l.filter.includes('{rpps}') && !l.filter.includes('{idNat}')) {
      err(
        at('filter'),
        "the filter must contain {rpps} or {idNat}, where the practitioner's identifier goes, e.g. (&(objectClass=user)(employeeID={rpps}))",
      )
    } else {
      const problem = filterProblem(l.filter.replaceAll('{rpps}', '0').replaceAll('{idNat}', '0'))
      if (problem !== undefined) err(at('filter'), `not a valid LDAP filter: ${problem}`)
    }
    if (l.groupBaseDn !== undefined && !l.nestedGroups)
      err(at('groupBaseDn'), 'groupBaseDn is used by nestedGroups only: set nestedGroups: true or remove it')
    const staleLimitMs = ms(at('staleLimit'), l.staleLimit)
    const cacheTtlMs = ms(at('cacheTtl'), l.cacheTtl)
    if (staleLimitMs < cacheTtlMs)
      err(at('staleLimit'), `staleLimit (${l.staleLimit}) must be at least cacheTtl (${l.cacheTtl})`)
    settings.ldap = {
      url: l.url.replace(/\/$/, ''),
      startTls: l.startTls,
      ...(l.caFile !== undefined && { caFile: inFileDir(l.caFile) }),
      bindDn: l.bindDn,
      bindPassword: l.bindPassword,
      baseDn: l.baseDn,
      filter: l.filter,
      loginAttribute: l.loginAttribute,
      displayNameAttribute: l.displayNameAttribute,
      groupsAttribute: l.groupsAttribute,
      nestedGroups: l.nestedGroups,
      ...(l.groupBaseDn !== undefined && { groupBaseDn: l.groupBaseDn }),
      timeoutMs: ms(at('timeout'), l.timeout),
      poolSize: l.poolSize,
      cacheTtlMs,
      negativeCacheTtlMs: ms(at('negativeCacheTtl'), l.negativeCacheTtl),
      staleLimitMs,
      cacheMax: l.cacheMax,
      ...(l.testIdNat !== undefined && { testIdNat: l.testIdNat }),
    }
  }
  return settings
}

/** Why a filter is not one (RFC 4515), or undefined. ldapts' parser forgives unbalanced parentheses: we do not. */
function filterProblem(filter: string): string | undefined {
  if (!filter.startsWith('(') || !filter.endsWith(')'))
    return 'it must be enclosed in parentheses, e.g. (employeeID={rpps})'
  let depth = 0
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i]
    if (c === '(') depth++
    else if (c === ')' && --depth < 0) return `unbalanced parentheses at character ${i + 1}`
    if (depth === 0 && i < filter.length - 1) return `text after the closing parenthesis at character ${i + 2}`
  }
  if (depth !== 0) return 'unbalanced parentheses: a ")" is missing'
  try {
    FilterParser.parseString(filter)
  } catch (e) {
    return (e as Error).message
  }
  return undefined
}

export const accounts: ConfigSection<'accounts'> = {
  check(raw: RawConfig, checks: Checks) {
    resolveRouteStructures(raw, checks.error)
    resolveAccounts(raw, '<check>', checks.error)
  },
  convert(raw, conversion) {
    const settings = resolveAccounts(raw, conversion.source ?? '<embedded>', ignore)
    return settings === undefined ? {} : { accounts: settings }
  },
}
