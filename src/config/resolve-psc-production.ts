// The psc keys that take a gateway from the emulator to a real hospital: client
// authentication, outbound proxy, CA bundle, client certificate, and the URLs ANS registered.
// Kept apart from resolve.ts: one concern, and every message names the key at fault.
import type { RawConfig } from './schema.js'
import type { OutboundProxySetting, PscOnboardingSettings, PscOutboundSettings } from './psc-production-types.js'
import { loadCaBundle, loadClientCertificate, TlsMaterialError, type ClientCertificate } from './client-certificate.js'
import { ansUrlProblems, matchRegistered } from '../psc/onboarding.js'

/** Warn this long before the client certificate expires. */
export const CERTIFICATE_WARNING_MS = 30 * 24 * 3600 * 1000

export interface PscProductionResolution {
  outbound: PscOutboundSettings
  onboarding: PscOnboardingSettings
  clientSecret: string
}

type Report = (path: string[], message: string, atKey?: boolean) => void

export function resolvePscProduction(
  psc: RawConfig['psc'],
  /** the value at this path came from ${VAR} or ${file:...}, not from the file's text */
  fromOutside: (path: string[]) => boolean,
  sent: { redirectUri?: string; postLogoutRedirectUri?: string },
  err: Report,
  warn: Report,
  now = Date.now(),
): PscProductionResolution {
  // A password must come from the environment or a file: never from the file everyone can read.

  // client authentication
  const secretAuth = psc.clientAuth !== 'tls_client_auth'
  if (secretAuth && psc.clientSecret === undefined) {
    err(
      ['psc'],
      `missing required key "clientSecret" (clientAuth ${psc.clientAuth}); or use clientAuth: tls_client_auth with psc.certificate`,
      true,
    )
  }
  if (!secretAuth && psc.certificate === undefined) {
    err(['psc', 'clientAuth'], 'clientAuth tls_client_auth needs psc.certificate (pkcs12, or cert and key)')
  }
  if (!secretAuth && psc.clientSecret !== undefined) {
    warn(['psc', 'clientSecret'], 'clientAuth is tls_client_auth: the client secret is not used')
  }

  // outbound proxy
  let proxy: OutboundProxySetting = { kind: 'environment' }
  const p = psc.outboundProxy
  if (p === false) proxy = { kind: 'direct' }
  else if (p !== undefined) {
    let url: URL | undefined
    try {
      url = new URL(p.url)
    } catch {
      err(['psc', 'outboundProxy', 'url'], `not a valid URL: ${JSON.stringify(p.url)}`)
    }
    if (url !== undefined && (url.username !== '' || url.password !== '')) {
      err(
        ['psc', 'outboundProxy', 'url'],
        'no credentials in the proxy URL: use outboundProxy.username and outboundProxy.password: ${PSC_PROXY_PASSWORD}',
      )
    }
    if (p.password !== undefined && !fromOutside(['psc', 'outboundProxy', 'password'])) {
      err(
        ['psc', 'outboundProxy', 'password'],
        'the proxy password is written in the file: take it from the environment or a file (password: ${PSC_PROXY_PASSWORD} or ${file:/run/secrets/proxy-password})',
      )
    }
    if ((p.password === undefined) !== (p.username === undefined)) {
      err(
        ['psc', 'outboundProxy', p.username === undefined ? 'password' : 'username'],
        'give both username and password, or neither',
      )
    }
    proxy = { kind: 'configured', url: url?.href ?? p.url, noProxy: p.noProxy ?? [] }
    if (p.username !== undefined) proxy.username = p.username
    if (p.password !== undefined) proxy.password = p.password
  }

  const outbound: PscOutboundSettings = { proxy }
  if (psc.tls?.ca !== undefined) {
    try {
      outbound.ca = loadCaBundle(psc.tls.ca)
    } catch (e) {
      if (!(e instanceof TlsMaterialError)) throw e
      err(['psc', 'tls', 'ca'], e.message)
    }
  }

  // client certificate
  const c = psc.certificate
  if (c !== undefined) {
    if (c.password !== undefined && !fromOutside(['psc', 'certificate', 'password'])) {
      err(
        ['psc', 'certificate', 'password'],
        'the certificate password is written in the file: take it from the environment or a file (password: ${PSC_CERT_PASSWORD})',
      )
    }
    if (c.pkcs12 !== undefined && (c.cert !== undefined || c.key !== undefined)) {
      err(
        ['psc', 'certificate', c.cert !== undefined ? 'cert' : 'key'],
        'give either pkcs12, or cert and key, not both',
      )
    } else if (c.pkcs12 === undefined && (c.cert === undefined || c.key === undefined)) {
      err(
        ['psc', 'certificate'],
        `missing "${c.cert === undefined ? 'cert' : 'key'}": give pkcs12, or both cert and key`,
        true,
      )
    } else {
      let certificate: ClientCertificate | undefined
      const at = ['psc', 'certificate', c.pkcs12 !== undefined ? 'pkcs12' : 'cert']
      try {
        certificate = loadClientCertificate(c)
      } catch (e) {
        if (!(e instanceof TlsMaterialError)) throw e
        err(at, e.message)
      }
      if (certificate !== undefined) {
        outbound.certificate = certificate
        const { validTo, validFrom, subject } = certificate.info
        if (validTo <= now)
          warn(
            at,
            `the client certificate (${subject}) expired on ${new Date(validTo).toISOString()}: PSC will refuse it`,
          )
        else if (validTo - now < CERTIFICATE_WARNING_MS)
          warn(at, `the client certificate (${subject}) expires on ${new Date(validTo).toISOString()}: renew it`)
        if (validFrom > now)
          warn(at, `the client certificate (${subject}) is valid only from ${new Date(validFrom).toISOString()}`)
        if (secretAuth)
          warn(
            ['psc', 'certificate'],
            `clientAuth is ${psc.clientAuth}: the certificate is presented in TLS, but PSC authenticates the client by its secret`,
          )
      }
    }
  }

  // the URLs ANS registered for this client: the ones sent must match, or PSC refuses the login
  const onboarding: PscOnboardingSettings = { otherAuthenticationMeans: psc.otherAuthenticationMeans ?? [] }
  if (psc.serviceName !== undefined) onboarding.serviceName = psc.serviceName
  if (psc.expectedUsers !== undefined) onboarding.expectedUsers = psc.expectedUsers
  const reg = psc.registered
  if (reg !== undefined) {
    onboarding.registered = {}
    for (const [key, value] of [
      ['redirectUris', sent.redirectUri],
      ['postLogoutRedirectUris', sent.postLogoutRedirectUri],
    ] as const) {
      const list = reg[key]
      if (list === undefined) continue
      onboarding.registered[key] = [...list]
      list.forEach((r, i) => {
        const star = r.indexOf('*')
        if (star !== -1 && star !== r.length - 1)
          err(
            ['psc', 'registered', key, String(i)],
            ansUrlProblems(r).find((x) => x.rule === 'wildcard-not-at-end')!.message,
          )
      })
      if (value === undefined) continue
      const m = matchRegistered(value, list)
      if (!m.ok) {
        err(
          ['psc', 'registered', key],
          `the gateway sends ${value}, which PSC would refuse (invalid redirect_uri): ${m.message}. ` +
            'Fix publicUrl or psc.redirectPath/postLogoutPath, or register the URL at ANS',
        )
      }
    }
  }
  return { outbound, onboarding, clientSecret: psc.clientSecret ?? '' }
}
