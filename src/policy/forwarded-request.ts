// Forward-auth: which request a proxy (nginx auth_request, ingress-nginx, Traefik forwardAuth,
// Envoy ext_authz) asks about. Pure: no framework, no I/O.
//
// Two forms:
// - Envoy's HTTP ext_authz sends the original method and path under a path prefix:
//   "<prefix>/auth/admin/x?y" with method POST asks about "POST /admin/x?y". The original request is
//   the auth request itself, so nothing in it can be spoofed by a header.
// - nginx, ingress-nginx and Traefik call "<prefix>/auth" and describe the original request in
//   headers: X-Original-URI / X-Forwarded-Uri (a path), or X-Original-URL (ingress-nginx: a whole
//   URL, which also names the host), and X-Original-Method / X-Forwarded-Method; otherwise the host
//   comes from X-Forwarded-Host, which fastify reads only from a trusted proxy. These headers are
//   read only when the immediate peer is one of trustedProxies: anybody else could name a public
//   URI to get an "allow" for a protected one (the spoofed X-Forwarded-Uri class of advisories).
//   A proxy passes the client's own headers through in its sub-request, so a header the proxy did
//   not set may still come from the client: when both spellings are present they must agree, and
//   none may be repeated; otherwise the request is refused (fail closed).
// The original path is normalised exactly as in proxy mode (policy/path.ts).
import { PSC_ERR, PSC_ERR_FORWARD_AUTH } from '../errors.js'
import { normalizeRequestTarget } from './path.js'

/** Why a forward-auth request was refused before any route rule (a header and the audit detail); the codes live in errors.ts. */
export const FORWARD_AUTH_ERR = Object.freeze({
  UNTRUSTED_PEER: PSC_ERR_FORWARD_AUTH.UNTRUSTED_PEER.code,
  INCOMPLETE: PSC_ERR_FORWARD_AUTH.INCOMPLETE.code,
  CONFLICT: PSC_ERR_FORWARD_AUTH.CONFLICT.code,
  /** the original URI cannot be normalised: the same code as in proxy mode */
  INVALID_TARGET: PSC_ERR.INVALID_TARGET.code,
})
export type ForwardAuthErrorCode = (typeof FORWARD_AUTH_ERR)[keyof typeof FORWARD_AUTH_ERR]

export interface ForwardAuthInput {
  /** the auth request's method */
  readonly method: string
  /** the auth request's normalised path and query */
  readonly url: string
  /** "<prefix>/auth" */
  readonly authPath: string
  /** the host the proxy says (X-Forwarded-Host from a trusted proxy) or the Host header */
  readonly host: string
  /** the immediate peer is one of trustedProxies */
  readonly peerTrusted: boolean
  /** raw header names and values, as Node gives them (to see repeated headers) */
  readonly rawHeaders: readonly string[]
}

export type OriginalRequest =
  | {
      readonly ok: true
      readonly method: string
      readonly host: string
      readonly url: string
      readonly form: 'path' | 'headers'
    }
  | { readonly ok: false; readonly code: ForwardAuthErrorCode; readonly detail: string }

const URI_HEADERS = ['x-original-uri', 'x-forwarded-uri'] as const
const URL_HEADER = 'x-original-url'
const ABSOLUTE = /^https?:\/\/([^/?#\s@]+)([/?].*)?$/i
const METHOD_HEADERS = ['x-original-method', 'x-forwarded-method'] as const
const METHOD = /^[A-Z]{1,20}$/

function refuse(code: ForwardAuthErrorCode, detail: string): OriginalRequest {
  return { ok: false, code, detail }
}

/** The value of one of two spellings, undefined when absent; an error when they disagree or repeat. */
function oneOf(
  rawHeaders: readonly string[],
  names: readonly [string, string],
): { value: string | undefined } | { error: string } {
  const found: Array<string | undefined> = [undefined, undefined]
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase()
    const which = name === names[0] ? 0 : name === names[1] ? 1 : -1
    if (which === -1) continue
    if (found[which] !== undefined) return { error: `${name} is repeated` }
    found[which] = rawHeaders[i + 1]!.trim()
  }
  const [a, b] = found
  if (a !== undefined && b !== undefined && a !== b) return { error: `${names[0]} and ${names[1]} disagree` }
  return { value: a ?? b }
}

export function originalRequest(input: ForwardAuthInput): OriginalRequest {
  const { url, authPath } = input
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  if (path.length > authPath.length && path.startsWith(`${authPath}/`)) {
    // Envoy: the original request is this one, under the prefix.
    return { ok: true, method: input.method, host: input.host, url: url.slice(authPath.length), form: 'path' }
  }
  if (!input.peerTrusted) {
    return refuse(
      FORWARD_AUTH_ERR.UNTRUSTED_PEER,
      'forward-auth request from an address not in trustedProxies: its X-Original-URI / X-Forwarded-Uri headers are ignored',
    )
  }
  const uri: { value: string | undefined } | { error: string } = oneOf(input.rawHeaders, URI_HEADERS)
  if ('error' in uri) return refuse(FORWARD_AUTH_ERR.CONFLICT, uri.error)
  const fromUrl = originalUrl(input.rawHeaders)
  if (fromUrl !== undefined && 'error' in fromUrl) return refuse(fromUrl.code, fromUrl.error)
  let host = input.host
  if (fromUrl !== undefined) {
    if (uri.value !== undefined && uri.value !== fromUrl.target)
      return refuse(FORWARD_AUTH_ERR.CONFLICT, `${URL_HEADER} and ${URI_HEADERS.join('/')} disagree`)
    const forwardedHost = lastValue(input.rawHeaders, 'x-forwarded-host')
    if (forwardedHost !== undefined && forwardedHost.toLowerCase() !== fromUrl.host.toLowerCase())
      return refuse(FORWARD_AUTH_ERR.CONFLICT, `${URL_HEADER} and x-forwarded-host name different hosts`)
    uri.value = fromUrl.target
    host = fromUrl.host
  }
  const method = oneOf(input.rawHeaders, METHOD_HEADERS)
  if ('error' in method) return refuse(FORWARD_AUTH_ERR.CONFLICT, method.error)
  if (uri.value === undefined || uri.value === '')
    return refuse(FORWARD_AUTH_ERR.INCOMPLETE, 'no X-Original-URI, X-Forwarded-Uri or X-Original-URL header')
  if (method.value === undefined || method.value === '')
    return refuse(FORWARD_AUTH_ERR.INCOMPLETE, 'no X-Original-Method or X-Forwarded-Method header')
  const m = method.value.toUpperCase()
  if (!METHOD.test(m)) return refuse(FORWARD_AUTH_ERR.INCOMPLETE, 'the original method is not an HTTP method')
  const target = normalizeRequestTarget(uri.value)
  if (!target.ok) return refuse(FORWARD_AUTH_ERR.INVALID_TARGET, `original URI: ${target.reason}`)
  return { ok: true, method: m, host, url: target.path + target.query, form: 'headers' }
}

/** X-Original-URL (ingress-nginx): its host and its origin-form target; undefined when absent. */
function originalUrl(
  rawHeaders: readonly string[],
): { host: string; target: string } | { code: ForwardAuthErrorCode; error: string } | undefined {
  let found: string | undefined
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== URL_HEADER) continue
    if (found !== undefined) return { code: FORWARD_AUTH_ERR.CONFLICT, error: `${URL_HEADER} is repeated` }
    found = rawHeaders[i + 1]!.trim()
  }
  if (found === undefined) return undefined
  const m = ABSOLUTE.exec(found)
  if (m === null) return { code: FORWARD_AUTH_ERR.INVALID_TARGET, error: `${URL_HEADER} is not an http(s) URL` }
  const rest = m[2] ?? '/'
  return { host: m[1]!, target: rest.startsWith('?') ? `/${rest}` : rest }
}

/** The last value of a header (fastify reads X-Forwarded-Host's last entry). */
function lastValue(rawHeaders: readonly string[], name: string): string | undefined {
  let value: string | undefined
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) value = rawHeaders[i + 1]
  if (value === undefined) return undefined
  const comma = value.lastIndexOf(',')
  return (comma === -1 ? value : value.slice(comma + 1)).trim()
}
