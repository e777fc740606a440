// The two PSC environments (Keycloak realm esante-wallet). A "custom" environment is just an issuer
// plus discoveryUrlFor(issuer): that is how the local emulator is reached.

export type PscEnvironmentName = 'bas' | 'production'

export interface PscEnvironment {
  issuer: string
  /** PSC's own discovery document, whose authorization_endpoint points at the wallet host */
  discoveryUrl: string
}

/** PSC does not use the standard openid-configuration document: the wallet one is the one to read. */
export const WALLET_DISCOVERY_PATH = '/.well-known/wallet-openid-configuration'

export function discoveryUrlFor(issuer: string): string {
  return issuer.replace(/\/+$/, '') + WALLET_DISCOVERY_PATH
}

const BAS_ISSUER = 'https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet'
const PRODUCTION_ISSUER = 'https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet'

export const PSC_ENVIRONMENTS: Readonly<Record<PscEnvironmentName, PscEnvironment>> = Object.freeze({
  bas: Object.freeze({ issuer: BAS_ISSUER, discoveryUrl: discoveryUrlFor(BAS_ISSUER) }),
  production: Object.freeze({ issuer: PRODUCTION_ISSUER, discoveryUrl: discoveryUrlFor(PRODUCTION_ISSUER) }),
})
