// psc keys that take the gateway from the emulator to a real hospital: outbound proxy,
// CA bundle, client certificate, ANS onboarding facts. Spread into PscSchema (sections/psc.ts);
// their checks and conversion are in ../resolve-psc-production.ts.
import { Type } from '@sinclair/typebox'
import { NonEmpty } from '../formats.js'

const SecretText = (description: string) =>
  NonEmpty(`${description}; from the environment or a file (\${VAR}, \${file:/path}), never written in this file`)
const FilePath = (description: string) => NonEmpty(`${description} (a file path)`)
export const PscProductionKeys = {
  outboundProxy: Type.Optional(
    Type.Union([
      Type.Literal(false, { description: 'Ignore HTTPS_PROXY/HTTP_PROXY: connect to PSC directly' }),
      Type.Object(
        {
          url: Type.String({
            pattern: '^https?://[^\\s/@]+/?$',
            description: 'An outbound proxy URL without credentials, e.g. http://proxy.hopital.local:3128',
          }),
          username: Type.Optional(NonEmpty('The proxy user name')),
          password: Type.Optional(SecretText('The proxy password')),
          noProxy: Type.Optional(
            Type.Array(NonEmpty('A host (or .domain suffix) reached directly'), {
              description: 'Hosts reached without the proxy, as NO_PROXY',
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            'The outbound HTTP proxy for every call to PSC (HTTPS through CONNECT); default: HTTPS_PROXY/HTTP_PROXY/NO_PROXY',
        },
      ),
    ]),
  ),
  tls: Type.Optional(
    Type.Object(
      {
        ca: Type.Optional(
          FilePath(
            "CA bundle (PEM) trusted for calls to PSC, in addition to the system CAs, e.g. a TLS-inspecting proxy's CA",
          ),
        ),
      },
      { additionalProperties: false },
    ),
  ),
  certificate: Type.Optional(
    Type.Object(
      {
        pkcs12: Type.Optional(FilePath('The client certificate and its key as PKCS#12 (.p12/.pfx)')),
        cert: Type.Optional(FilePath('The client certificate (PEM), with its chain')),
        key: Type.Optional(FilePath('The private key of cert (PEM)')),
        password: Type.Optional(SecretText('The password of the PKCS#12 file or of the PEM key')),
      },
      {
        additionalProperties: false,
        description: 'The IGC Santé "personne morale" certificate presented to PSC (mTLS): pkcs12, or cert and key',
      },
    ),
  ),
  registered: Type.Optional(
    Type.Object(
      {
        redirectUris: Type.Optional(
          Type.Array(NonEmpty('A redirect URL as registered at ANS (a trailing * allowed)'), { minItems: 1 }),
        ),
        postLogoutRedirectUris: Type.Optional(
          Type.Array(NonEmpty('A logout return URL as registered at ANS (a trailing * allowed)'), { minItems: 1 }),
        ),
      },
      {
        additionalProperties: false,
        description: 'The URLs ANS registered for this client: the gateway checks that the ones it sends match',
      },
    ),
  ),
  expectedUsers: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: 'How many practitioners will use the service (asked by ANS at onboarding)',
    }),
  ),
  otherAuthenticationMeans: Type.Optional(
    Type.Array(NonEmpty('Another way practitioners log in to the service, e.g. "login et mot de passe"'), {
      description: 'Other authentication means of the service, for the ANS form (default: PSC only)',
    }),
  ),
}
