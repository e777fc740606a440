// Establishments and local accounts (issue 17): the cross-key checks and the resolution of the
// `structures` and `accounts` sections. Named structure sets are replaced in each route by the set
// itself, so the policy reads plain data; an unknown name is an error at the route's key.
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path'
import { FilterParser } from 'ldapts'
import type { RawConfig, StructureSetConfig } from './schema.js'
import type { AccountsSettings } from './types.js'
import { parseDuration } from './duration.js'
import { closest } from './validate.js'

type Err = (path: string[], message: string, atKey?: boolean) => void

const ACCOUNT_FIELDS = new Set(['accountLogin', 'accountName', 'accountGroups'])

/** The structure sets every route names, resolved in place; returns the routes' new access values. */
export function resolveRouteStructures (raw: RawConfig, err: Err): RawConfig['routes'] {
  const sets = raw.structures ?? {}
  const names = Object.keys(sets)
  return raw.routes.map((route, i) => {
    const access = route.access
    if (typeof access === 'string') return route
    const at = ['routes', String(i), 'access']
    if ((access.groups !== undefined || access.account !== undefined) && raw.accounts === undefined) {
      const key = access.groups !== undefined ? 'groups' : 'account'
      err([...at, key], `"${key}" needs a source of local accounts: add an "accounts" section (source: file or ldap)`, true)
    }
    if (access.structures === undefined) return route
    const structures = access.structures.map((entry, j): StructureSetConfig | string => {
      if (typeof entry !== 'string') return entry
      const set = Object.hasOwn(sets, entry) ? sets[entry] : undefined
      if (set === undefined) {
        const close = closest(entry, names)
        err([...at, 'structures', String(j)], `unknown structure set "${entry}"` +
          (close !== undefined ? ` (did you mean "${close}"?)` : names.length > 0 ? ` (declared under "structures": ${names.join(', ')})` : ' (no set is declared under the top-level "structures")'))
        return entry
      }
      return { label: set.label ?? entry, ...set }
    })
    return { ...route, access: { ...access, structures } }
  })
}

/** The accounts section, checked and in the units the rest of the gateway reads. */
export function resolveAccounts (raw: RawConfig, configFile: string, err: Err): AccountsSettings | undefined {
  const usesAccountHeader = Object.entries(raw.headers.identity).find(([, field]) => typeof field === 'string' && ACCOUNT_FIELDS.has(field))
  const a = raw.accounts
  if (a === undefined) {
    if (usesAccountHeader !== undefined) {
      err(['headers', 'identity', usesAccountHeader[0]], `"${String(usesAccountHeader[1])}" needs a source of local accounts: add an "accounts" section`)
    }
    return undefined
  }
  const ms = (path: string[], text: string): number => {
    const v = parseDuration(text)
    if (v === 0) err(path, `expected a duration greater than zero, got ${JSON.stringify(text)}`)
    return v
  }
  const settings: AccountsSettings = {
    source: a.source,
    contact: a.contact,
    refreshEveryMs: ms(['accounts', 'refreshEvery'], a.refreshEvery),
    retryEveryMs: ms(['accounts', 'retryEvery'], a.retryEvery)
  }
  if (a.source === 'file') {
    if (a.file === undefined) err(['accounts', 'source'], 'source "file" needs accounts.file, the mapping file (.csv or .yaml)')
    if (a.ldap !== undefined) err(['accounts', 'ldap'], 'ldap applies to source "ldap" only; set source: ldap or remove it', true)
  } else {
    if (a.ldap === undefined) err(['accounts', 'source'], 'source "ldap" needs accounts.ldap (url, bindDn, bindPassword, baseDn)')
    if (a.file !== undefined) err(['accounts', 'file'], 'file applies to source "file" only; set source: file or remove it', true)
  }
  const base = configFile.startsWith('<') ? process.cwd() : dirname(configFile)
  const inFileDir = (p: string): string => (isAbsolute(p) ? p : resolvePath(base, p))
  if (a.file !== undefined) {
    settings.file = inFileDir(a.file)
    if (!/\.(csv|ya?ml)$/i.test(a.file)) err(['accounts', 'file'], `expected a .csv, .yaml or .yml file, got ${JSON.stringify(a.file)}`)
  }
  const l = a.ldap
  if (l !== undefined) {
    const at = (key: string): string[] => ['accounts', 'ldap', key]
    const secure = l.url.startsWith('ldaps://')
    if (secure && l.startTls) err(at('startTls'), 'startTls upgrades an ldap:// connection; an ldaps:// URL is already TLS: remove startTls')
    if (!secure && !l.startTls && !l.allowInsecure) {
      err(at('url'), 'an ldap:// directory without startTls would receive the bind password in clear: use ldaps://, or startTls: true')
    }
    if (!l.filter.includes('{rpps}') && !l.filter.includes('{idNat}')) {
      err(at('filter'), 'the filter must contain {rpps} or {idNat}, where the practitioner\'s identifier goes, e.g. (&(objectClass=user)(employeeID={rpps}))')
    } else {
      const problem = filterProblem(l.filter.replaceAll('{rpps}', '0').replaceAll('{idNat}', '0'))
      if (problem !== undefined) err(at('filter'), `not a valid LDAP filter: ${problem}`)
    }
    if (l.groupBaseDn !== undefined && !l.nestedGroups) err(at('groupBaseDn'), 'groupBaseDn is used by nestedGroups only: set nestedGroups: true or remove it')
    const staleLimitMs = ms(at('staleLimit'), l.staleLimit)
    const cacheTtlMs = ms(at('cacheTtl'), l.cacheTtl)
    if (staleLimitMs < cacheTtlMs) err(at('staleLimit'), `staleLimit (${l.staleLimit}) must be at least cacheTtl (${l.cacheTtl})`)
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
      cacheMax: l.cacheMax
    }
  }
  return settings
}

/** Why a filter is not one (RFC 4515), or undefined. ldapts' parser forgives unbalanced parentheses: we do not. */
function filterProblem (filter: string): string | undefined {
  if (!filter.startsWith('(') || !filter.endsWith(')')) return 'it must be enclosed in parentheses, e.g. (employeeID={rpps})'
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
