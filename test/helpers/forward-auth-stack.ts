// Forward-auth as a hospital runs it, for the tests of each front proxy: a gateway process
// (`psc-gateway serve`) with identity headers, local accounts and a signed assertion configured,
// the PSC emulator, an echo application, and the proxy configuration the gateway generates for it
// (`psc-gateway forward-auth <proxy>`). The test starts the real proxy on `proxyPort`.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateForwardAuth, type ProxyKind } from '../../src/cli/forward-auth/generate.js'
import { forwardAuthContract, type ForwardAuthContract } from '../../src/cli/forward-auth/contract.js'
import { loadConfigText } from '../../src/config/load.js'
import { startEmulator, type RunningEmulator } from '../../dev/emulator/index.js'
import { startCountingUpstream, type CountingUpstream, type Echo } from '../security/fixture.js'
import { spawnGateway, until, type GatewayProcess } from './gateway-process.js'
import { CLIENT_ID, CLIENT_SECRET, freePort, stackYaml } from './stack.js'

export const MEDECIN = '899700218896'
export const AUDIENCE = 'dpi'
/** the local account of MEDECIN in the mapping file: a login, no group */
export const LOGIN = 'jdupont'

export interface ForwardAuthStack {
  proxyPort: number
  publicUrl: string
  gatewayUrl: string
  gateway: GatewayProcess
  app: CountingUpstream
  emulator: RunningEmulator
  contract: ForwardAuthContract
  /** the proxy configuration, as `psc-gateway forward-auth <proxy>` prints it */
  generated: string
  /** the Lua script (HAProxy only) */
  lua?: string
  received(path: string): Echo[]
  /** the audit lines the gateway printed so far */
  audit(): Array<Record<string, unknown>>
  close(): Promise<void>
}

/** Every configured header, and its "_" spelling, with a forged value, as a client would send them. */
export function forgedHeaders(contract: ForwardAuthContract): Record<string, string> {
  return Object.fromEntries(
    [...contract.clear, 'X-PSC-Forged-Extra', 'X_PSC_Forged_Extra'].map((h) => [h, 'forged-by-client']),
  )
}

export async function startForwardAuthStack(proxy: ProxyKind): Promise<ForwardAuthStack> {
  const app = await startCountingUpstream()
  const proxyPort = await freePort()
  const gatewayPort = await freePort()
  const publicUrl = `http://127.0.0.1:${proxyPort}`
  const emulator = await startEmulator({
    port: 0,
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: [`${publicUrl}/_psc/callback`],
        postLogoutRedirectUris: [`${publicUrl}/_psc/logged-out`],
      },
    ],
  })
  const dir = mkdtempSync(join(tmpdir(), 'psc-fwd-'))
  const accounts = join(dir, 'accounts.csv')
  writeFileSync(accounts, `rpps,idNat,login,displayName,groups\n${MEDECIN.slice(1)},,${LOGIN},Jean Dupont,\n`)
  // Every kind of configured header: the defaults, more identity fields, the account's and the
  // assertion's (under its own name, not X-PSC-).
  const yaml = stackYaml({
    port: gatewayPort,
    issuer: emulator.issuer,
    upstreamUrl: app.url,
    headersYaml:
      '  identity:\n    X-PSC-Structure-Finess: structureFiness\n    X-PSC-Civility: civility\n    X-Remote-User: accountLogin\n    X-Remote-Groups: accountGroups\n',
  })
    .replace(
      `publicUrl: http://127.0.0.1:${gatewayPort}`,
      `publicUrl: ${publicUrl}\ntrustedProxies: [127.0.0.1]\naccounts: { source: file, file: "${accounts}" }`,
    )
    .replace(
      `app: { url: "${app.url}" }`,
      `app: { url: "${app.url}", assertion: { audience: ${AUDIENCE}, header: X-Dpi-Assertion, ttl: 30s } }`,
    )
  const { config } = loadConfigText(yaml, 'gateway.yaml', { TEST_CLIENT_SECRET: CLIENT_SECRET })
  const contract = forwardAuthContract(config, 'gateway.yaml')
  const generated = generateForwardAuth(proxy, contract)
  const lua = proxy === 'haproxy' ? generateForwardAuth('haproxy-lua', contract) : undefined
  const gateway = spawnGateway(yaml, 'forward-auth')
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`
  await until(
    `the gateway on ${gatewayUrl}\n${gateway.output.join('')}`,
    async () => (await fetch(`${gatewayUrl}/_psc/jwks.json`)).ok,
    30_000,
  )
  return {
    proxyPort,
    publicUrl,
    gatewayUrl,
    gateway,
    app,
    emulator,
    contract,
    generated,
    ...(lua === undefined ? {} : { lua }),
    received: (path) => app.received.filter((e) => e.url === path),
    audit: () =>
      gateway.output
        .join('')
        .split('\n')
        .filter((l) => l.includes('"log":"audit"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async close() {
      await gateway.stop()
      await emulator.close()
      await app.close()
    },
  }
}
