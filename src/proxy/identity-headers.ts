// Identity → the headers the legacy application trusts. Pure: no framework, no I/O.
import type { IdentityField } from '../config/schema.js'
import type { GatewayConfig, IdentityHeader } from '../config/types.js'
import type { Identity } from '../psc/identity.js'
import { FIRST_EXERCICE, type ExerciceInContext } from '../policy/exercice-in-context.js'
import { encodeGroupList } from './group-list.js'

export type HeaderEncoding = 'percent' | 'latin1'

/**
 * One field's value. Single-valued exercice fields (profession, category, specialty, structure)
 * describe the exercice in context, the one the request was allowed for: never another exercice's.
 */
export function identityFieldValue(
  identity: Identity,
  field: IdentityField,
  inContext: ExerciceInContext = FIRST_EXERCICE,
): string | undefined {
  const primary = identity.exercices[inContext.exercice]
  const structure = primary?.structures[inContext.structure]
  switch (field) {
    case 'idNat':
      return identity.idNat
    case 'rpps':
      return identity.rpps
    case 'sub':
      return identity.sub
    case 'familyName':
      return identity.familyName
    case 'givenName':
      return identity.givenName
    case 'civility':
      return identity.civility
    case 'acr':
      return identity.acr
    case 'authMode':
      return identity.authMode
    case 'professionCode':
      return primary?.professionCode || undefined
    case 'profession':
      return primary?.professionLabel
    case 'category':
      return primary?.category
    case 'specialty':
      return primary?.specialtyCode
    case 'professionCodes': {
      const codes = [...new Set(identity.exercices.map((e) => e.professionCode).filter((c) => c !== ''))]
      return codes.length ? codes.join(',') : undefined
    }
    case 'structureId':
      return structure?.id
    case 'structureName':
      return structure?.name
    case 'structureFiness':
      return structure?.finess
    // the local account: only one that was found travels
    case 'accountLogin':
      return identity.account?.status === 'found' ? identity.account.login : undefined
    case 'accountName':
      return identity.account?.status === 'found' ? identity.account.displayName : undefined
    case 'accountGroups':
      return identity.account?.status === 'found' && identity.account.groups.length > 0
        ? encodeGroupList(identity.account.groups)
        : undefined
  }
}

const NEEDS_PERCENT = /[^\x20-\x24\x26-\x7e]/

/**
 * Header values must be bytes a legacy application can read. `percent`: lossless, UTF-8 bytes of
 * anything outside printable ASCII (and "%" itself) as %XX, e.g. "Lefèvre" → "Lef%C3%A8vre".
 * `latin1`: ISO-8859-1 bytes as mod_auth_openidc sends them; characters outside Latin-1 (such as
 * "œ") cannot travel and become "?". Control characters never travel in either form.
 */
export function encodeHeaderValue(value: string, encoding: HeaderEncoding): string {
  if (encoding === 'percent') {
    if (!NEEDS_PERCENT.test(value)) return value
    let out = ''
    for (const ch of value) {
      if (NEEDS_PERCENT.test(ch)) {
        for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
      } else {
        out += ch
      }
    }
    return out
  }
  let out = ''
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0
    if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) out += ' '
    else out += code <= 0xff ? ch : '?'
  }
  return out
}

/** The headers for the identity and its exercice in context (proxy/forward.ts caches them per session). */
export function identityHeaderValues(
  identity: Identity,
  mapping: readonly IdentityHeader[],
  encoding: HeaderEncoding,
  inContext: ExerciceInContext = FIRST_EXERCICE,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const { header, field } of mapping) {
    // the group list's own escapes must not be escaped again ("%2C" → "%252C"): its names are encoded one by one
    if (field === 'accountGroups' && encoding === 'percent') {
      const groups = identity.account?.status === 'found' ? identity.account.groups : []
      if (groups.length > 0) out[header.toLowerCase()] = encodeGroupList(groups, (g) => encodeHeaderValue(g, 'percent'))
      continue
    }
    const value = identityFieldValue(identity, field, inContext)
    if (value !== undefined && value !== '') out[header.toLowerCase()] = encodeHeaderValue(value, encoding)
  }
  return out
}

/**
 * Every header the gateway may tell an application about a practitioner: the identity headers and
 * each upstream's assertion header. A forward-auth answer names each one and the generated proxy
 * configurations clear each one, so both read this one list.
 */
export function identityHeaderNames(config: GatewayConfig): string[] {
  return [
    ...config.headers.identity.map((h) => h.header),
    ...Object.values(config.upstreams).flatMap((u) => (u.assertion === undefined ? [] : [u.assertion.header])),
  ]
}
