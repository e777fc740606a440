// Forward-auth: <prefix>/auth answers the sub-requests of nginx auth_request, ingress-nginx
// (auth-url), Traefik forwardAuth and Envoy ext_authz, for hospitals that keep their own reverse
// proxy. The same steps as the gate (route table, session, decideRequest), on the original request
// a trusted proxy describes (policy/forwarded-request.ts); the answer is for the proxy:
//   2xx   allowed: the identity headers (and the signed assertion) for the proxy to copy upstream;
//         the assertion only to a trusted proxy's sub-request (see assertionPeer), with a `route`
//         claim naming the route that allowed it
//   401   no session: the login URL in Location and X-Auth-Request-Redirect
//   403   refused by the route rules: the reason code in X-PSC-Error
//   401/403 the IT charter not accepted yet: a navigation gets 401 and the charter page's URL
//         (as a login); anything else 403 (PSC_ERR_CHARTER_REQUIRED)
//   other refused before any rule (no route, bad original URI, untrusted peer...): X-PSC-Error
// The body is the usual page (French, English by Accept-Language): Traefik shows it to the browser.
import proxyAddr from '@fastify/proxy-addr'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import type { GatewayConfig } from '../config/types.js'
import { PSC_ERR } from '../errors.js'
import { scopeOf, type CarryOut, type createDecisionSteps } from '../gate.js'
import { sendCharterRefusal } from '../pages/charter-refusal.js'
import { sendCode } from '../pages/respond.js'
import { originalRequest } from '../policy/forwarded-request.js'
import type { AssertionIssuer } from '../proxy/identity-assertion.js'
import { identityHeadersOf } from '../proxy/forward.js'
import { identityHeaderNames } from '../proxy/identity-headers.js'
import { setScope } from '../scope.js'
import { sessionCookieOptions } from '../session/cookies.js'
import { renewCookieIfNeeded } from '../session/request-session.js'
import { endpointScope } from './endpoint-scope.js'

export interface ForwardAuthOptions {
  config: GatewayConfig
  steps: ReturnType<typeof createDecisionSteps>
  assertions?: AssertionIssuer | undefined
}

/** The header that carries the outcome code of anything but an allow. */
export const ERROR_HEADER = 'x-psc-error'
/** The login URL of a 401 (oauth2-proxy's name; nginx copies it with auth_request_set). */
export const REDIRECT_HEADER = 'x-auth-request-redirect'
/**
 * Set by the front proxy on the browser requests it passes to the gateway's own endpoints (the
 * generated configurations do): such a request is a browser's, never the proxy's sub-request.
 */
export const BROWSER_MARK_HEADER = 'x-psc-from-browser'

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

export async function registerForwardAuth(app: FastifyInstance, opts: ForwardAuthOptions): Promise<void> {
  const { config, steps, assertions } = opts
  const authPath = `${config.prefix}/auth`
  const cookieName = config.session.cookieName
  const cookieOptions = sessionCookieOptions({
    secure: config.secure,
    maxAgeSeconds: Math.floor(config.session.absoluteTimeoutMs / 1000),
  })
  // The immediate peer, as fastify's trustProxy judges it for X-Forwarded-Host (index 0).
  const trusted = config.trustedProxies.length > 0 ? proxyAddr.compile(config.trustedProxies) : () => false
  // The signed assertion is a credential for the upstream: it goes only to the sub-request of a
  // proxy listed in trustedProxies, never to a browser (which can reach <prefix>/auth/<path>
  // straight, or through the proxy's pass-through to the gateway's endpoints, then marked).
  const assertionPeer = (request: FastifyRequest): boolean =>
    trusted(request.socket.remoteAddress ?? '', 0) && request.headers[BROWSER_MARK_HEADER] === undefined

  const carryOut: CarryOut = (request, reply, matched, read, outcome) => {
    const scope = scopeOf(matched, read, outcome)
    const original = `forward-auth ${matched.facts.method} ${pathOf(matched.url)}`
    scope.detail = scope.detail === undefined ? original : `${original}: ${scope.detail}`
    setScope(request, scope)
    reply.header('cache-control', 'no-store')
    if (outcome.kind === 'allow') {
      renewCookieIfNeeded(reply, read.session, cookieName, cookieOptions)
      const identity = outcome.identity
      // Every configured header is named, empty when it has no value: a proxy that copies a
      // header only when the answer has it (Caddy 2.6's copy_headers writes its placeholder's text
      // instead) still sets or clears each one.
      reply.headers(emptyHeadersOf(matched.state.config))
      if (identity !== undefined) {
        reply.headers(identityHeadersOf(identity, matched.state.forwarding, outcome.exercice))
        if (assertions !== undefined && assertionPeer(request)) {
          const assertion = assertions.headerFor(
            identity,
            matched.upstream!,
            matched.state.forwarding.identity,
            scope.session,
            outcome.exercice,
            matched.route?.name,
          )
          if (assertion !== undefined) reply.header(assertion.name, assertion.value)
        } else if (matched.upstream?.assertion !== undefined) {
          request.log.info(
            { route: matched.route?.name },
            "forward-auth: assertion withheld (not a trusted proxy's sub-request)",
          )
        }
      }
      return void reply.code(200).send()
    }
    reply.header(ERROR_HEADER, outcome.code)
    if (outcome.kind === 'login' && outcome.to === 'charter') {
      // The IT charter: a navigation is sent to its page the way a login is (401 and the URL for
      // the proxy's redirect); anything else is refused with 403, which no proxy turns into a redirect.
      const charterHref = `${config.publicUrl}${config.prefix}/charter?rd=${encodeURIComponent(matched.url)}`
      if (outcome.via === 'status') return void sendCharterRefusal(request, reply, charterHref)
      reply.header('location', charterHref).header(REDIRECT_HEADER, charterHref)
      return void sendCode(request, reply, PSC_ERR.CHARTER_REQUIRED.code, { status: 401 })
    }
    if (outcome.kind === 'login') {
      const login = `${config.publicUrl}${config.prefix}/login?rd=${encodeURIComponent(matched.url)}`
      reply.header('location', login).header(REDIRECT_HEADER, login)
      // Always 401: a proxy (nginx auth_request) takes only 2xx, 401 and 403 from us.
      return void sendCode(request, reply, PSC_ERR.LOGIN_REQUIRED.code, { loginHref: login })
    }
    if (outcome.kind === 'deny') {
      const session = read.session
      const identity = session.kind === 'alive' ? session.record.identity : undefined
      const who =
        identity === undefined
          ? undefined
          : { displayName: `${identity.givenName} ${identity.familyName}`.trim(), idNat: identity.idNat }
      return void sendCode(request, reply, outcome.code, {
        denial: outcome.details,
        who,
        logoutHref: `${config.prefix}/logout`,
      })
    }
    sendCode(request, reply, outcome.code)
  }

  function handler(request: FastifyRequest, reply: FastifyReply): Promise<void> | void {
    const original = originalRequest({
      method: request.method,
      url: request.url,
      authPath,
      host: request.host,
      peerTrusted: trusted(request.socket.remoteAddress ?? '', 0),
      rawHeaders: request.raw.rawHeaders,
    })
    if (!original.ok) {
      request.log.warn({ code: original.code, detail: original.detail }, 'forward-auth request refused')
      endpointScope(request, 'reject', {
        reason: PSC_ERR.BAD_REQUEST.code,
        detail: `${original.code}: ${original.detail}`,
      })
      reply.header('cache-control', 'no-store').header(ERROR_HEADER, original.code)
      return void sendCode(request, reply, PSC_ERR.BAD_REQUEST.code)
    }
    return steps(request, reply, original, carryOut)
  }

  await app.register(async (scope) => {
    // A sub-request has no body worth reading (Envoy may send one): it is drained, never parsed.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser(
      '*',
      (_request: FastifyRequest, payload: Readable, done: (err: Error | null, body?: unknown) => void) => {
        payload.on('error', (err) => done(err))
        payload.on('end', () => done(null))
        payload.resume()
      },
    )
    for (const url of [authPath, `${authPath}/*`]) {
      scope.route({
        method: METHODS,
        url,
        handler: async (request, reply) => {
          await handler(request, reply)
          return reply
        },
      })
    }
  })
}

const emptyHeaders = new WeakMap<GatewayConfig, Record<string, string>>()

/** Each identity header and each upstream's assertion header, with an empty value. */
function emptyHeadersOf(config: GatewayConfig): Record<string, string> {
  let headers = emptyHeaders.get(config)
  if (headers === undefined) {
    headers = Object.fromEntries(identityHeaderNames(config).map((n) => [n.toLowerCase(), '']))
    emptyHeaders.set(config, headers)
  }
  return headers
}

function pathOf(url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}
