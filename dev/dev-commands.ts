// The development commands that run the local stand-ins: the whole demo, the PSC emulator, the demo
// application. They live in dev/ with what they run: the product (src/) never imports dev/, so
// neither the production build nor the image holds them (nor oidc-provider).
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { UsageError, type Command } from '../src/cli/command.js'
import { stopOnSignals } from '../src/cli/stop-on-signals.js'

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
// Loaded when a command runs, not before: `emulator` need not load the gateway, nor `demo-app` oidc-provider.
const loadEmulator = () => import('./emulator/index.js')
const loadDemoApp = () => import('./demo/app.js')

/** must match psc.serviceName in config/demo.yaml: the dénomination the e-CPS notification shows */
const DEMO_SERVICE_NAME = 'Démo psc-gateway'

function port(value: unknown, fallback: number, command: Command): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`--port: expected a port number (0-65535), got ${JSON.stringify(value)}`, command)
  return n
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the whole demo on localhost: PSC emulator, demo application and gateway.',
  usage: '',
  details: 'Ports: GATEWAY_PORT (8080), EMULATOR_PORT (8081), DEMO_APP_PORT (8082). Ctrl-C stops everything.',
  options: {},
  async run() {
    const started = performance.now()
    const [{ startEmulator }, { startDemoApp }, { buildGateway }, { loadOrRefuse }] = await Promise.all([
      loadEmulator(),
      loadDemoApp(),
      import('../src/gateway.js'),
      import('../src/cli/config-file.js'),
    ])
    const env = process.env
    const gatewayPort = Number(env.GATEWAY_PORT ?? 8080)
    const emulatorPort = Number(env.EMULATOR_PORT ?? 8081)
    const demoPort = Number(env.DEMO_APP_PORT ?? 8082)
    const publicUrl = `http://localhost:${gatewayPort}`
    const clientSecret = env.PSC_CLIENT_SECRET ?? 'demo-client-secret-not-for-production'
    const app = await startDemoApp(demoPort)
    const emulator = await startEmulator({
      port: emulatorPort,
      clients: [
        {
          clientId: 'psc-gateway-demo',
          clientSecret,
          redirectUris: [`${publicUrl}/_psc/callback`],
          postLogoutRedirectUris: [`${publicUrl}/_psc/logged-out`],
          serviceName: DEMO_SERVICE_NAME,
        },
      ],
      // the demo's CIBA answers quickly (PSC's own interval is a few seconds)
      ciba: { intervalSeconds: 1 },
    })
    const { config } = loadOrRefuse(join(PACKAGE_ROOT, 'config', 'demo.yaml'), {
      ...env,
      PSC_ISSUER: emulator.issuer,
      GATEWAY_PORT: String(gatewayPort),
      DEMO_APP_PORT: String(demoPort),
    })
    const gateway = await buildGateway(config)
    await gateway.psc.start()
    await gateway.listen()
    const ms = Math.round(performance.now() - started)
    process.stdout.write(`
  psc-gateway demo ready in ${ms} ms

    Open        ${publicUrl}/          (log in as a test practitioner)
    Emulator    ${emulator.origin}       (local Pro Santé Connect)
    e-CPS app   ${emulator.origin}/ecps  (the phone: approve the CIBA notifications here)
    Demo app    ${app.url}       (the "legacy" application)
    Admin       http://127.0.0.1:${config.admin.port}/readyz

  Ctrl-C to stop.
`)
    stopOnSignals(async () => {
      await gateway.close()
      await emulator.close()
      await app.close()
    })
    return undefined
  },
}

export const emulatorCommand: Command = {
  name: 'emulator',
  summary: 'Run the local PSC emulator alone (an OpenID Connect provider with test practitioners).',
  usage:
    '[--port N] [--practitioners FILE] [--client-id ID] [--client-secret S] [--redirect-uri URI] [--post-logout-uri URI]',
  options: {
    port: { type: 'string', value: 'N', description: 'port (default 8081)' },
    host: { type: 'string', value: 'HOST', description: 'address to listen on (default 127.0.0.1)' },
    practitioners: {
      type: 'string',
      value: 'FILE',
      description: 'test practitioners (default config/practitioners.yaml)',
    },
    'client-id': { type: 'string', value: 'ID', description: 'the client the gateway uses (default psc-gateway-demo)' },
    'client-secret': { type: 'string', value: 'S', description: 'its secret' },
    'redirect-uri': {
      type: 'string',
      multiple: true,
      value: 'URI',
      description: 'allowed callback (repeatable; default http://localhost:8080/_psc/callback)',
    },
    'post-logout-uri': {
      type: 'string',
      multiple: true,
      value: 'URI',
      description: 'allowed page after logout (repeatable)',
    },
  },
  async run({ values }) {
    const { startEmulator } = await loadEmulator()
    const emulator = await startEmulator({
      port: port(values.port, 8081, emulatorCommand),
      host: values.host as string | undefined,
      practitionersFile: values.practitioners as string | undefined,
      clients: [
        {
          clientId: (values['client-id'] as string | undefined) ?? 'psc-gateway-demo',
          clientSecret: (values['client-secret'] as string | undefined) ?? 'demo-client-secret-not-for-production',
          redirectUris: (values['redirect-uri'] as string[] | undefined) ?? ['http://localhost:8080/_psc/callback'],
          postLogoutRedirectUris: (values['post-logout-uri'] as string[] | undefined) ?? [
            'http://localhost:8080/_psc/logged-out',
          ],
        },
      ],
    })
    process.stdout.write(`PSC emulator: issuer ${emulator.issuer}\ndiscovery ${emulator.discoveryUrl}\n`)
    stopOnSignals(() => emulator.close())
    return undefined
  },
}

export const demoAppCommand: Command = {
  name: 'demo-app',
  summary: 'Run the demo "legacy" application alone (it shows the identity headers it receives).',
  usage: '[--port N]',
  options: {
    port: { type: 'string', value: 'N', description: 'port (default 8082)' },
    host: { type: 'string', value: 'HOST', description: 'address to listen on (default 127.0.0.1)' },
  },
  async run({ values }) {
    const { startDemoApp } = await loadDemoApp()
    const app = await startDemoApp(port(values.port, 8082, demoAppCommand), values.host as string | undefined)
    process.stdout.write(`demo app on ${app.url}\n`)
    stopOnSignals(() => app.close())
    return undefined
  },
}

export const DEV_COMMANDS: readonly Command[] = [demoCommand, emulatorCommand, demoAppCommand]
