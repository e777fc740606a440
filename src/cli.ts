#!/usr/bin/env node
// psc-gateway's command line: serve, check, demo, emulator, demo-app, schema.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { watchFile } from 'node:fs'
import { parseArgs } from 'node:util'
import { describeRouteTable, compileRoutes } from './policy/rules.js'
import { ConfigError } from './config/errors.js'
import { configJsonSchemaText } from './config/jsonSchema.js'
import { loadConfigFile, type LoadedConfig } from './config/load.js'
import { buildGateway, type Gateway } from './gateway.js'
import { applyGatewayRuntimeTuning } from './ops/runtime-tuning.js'
import { AUDIT_USAGE, AuditUsageError, runAuditCommand } from './audit/commands.js'
import { describePscConnection, doctorCommand, raccordementCommand } from './ops/production-commands.js'
import { checkAccountsSettings } from './accounts/check.js'
import { loadDemoApp, loadEmulator, NotInThisBuild } from './dev-tools.js'

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const USAGE = `Usage: psc-gateway <command> [options]

Commands:
  serve --config FILE      run the gateway (FILE: YAML configuration)
  check --config FILE      validate FILE and print the compiled route table, without starting
  doctor --config FILE [--json]
                           on the server: check DNS, outbound proxy, TLS, discovery, clock, client
                           authentication and certificate against PSC (exit 1 on a failure)
  raccordement --config FILE [--json] [--users N]
                           what to enter in ANS's onboarding forms, with ANS's rules checked
  demo                     run the whole demo on localhost: PSC emulator, demo app, gateway
  emulator [--port N] [--practitioners FILE] [--client-id ID] [--client-secret S] [--redirect-uri URI] [--post-logout-uri URI]
                           run the local PSC emulator alone
  demo-app [--port N]      run the demo legacy application alone
  schema                   print the configuration's JSON Schema
${AUDIT_USAGE}`

function loadOrExit(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  try {
    const loaded = loadConfigFile(file, env)
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`)
    // the mapping file and the directory's CA, named by the configuration (issue 17)
    const accountProblems = checkAccountsSettings(loaded.config.accounts)
    if (accountProblems.length > 0) {
      process.stderr.write(`psc-gateway: invalid configuration, not starting:\n${accountProblems.join('\n')}\n`)
      process.exit(1)
    }
    return loaded
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`psc-gateway: invalid configuration, not starting:\n${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
}

function stopOnSignals(stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    stop(signal).then(() => process.exit(0), () => process.exit(1))
  }
  process.on('SIGTERM', handler)
  process.on('SIGINT', handler)
}

async function serve(configFile: string): Promise<{ gateway: Gateway; config: LoadedConfig['config'] }> {
  applyGatewayRuntimeTuning()
  const { config } = loadOrExit(configFile)
  const gateway = await buildGateway(config)
  const { url, adminUrl } = await gateway.listen()
  gateway.app.log.info({ url, adminUrl, publicUrl: config.publicUrl }, 'psc-gateway listening')
  const reload = () => gateway.reloadFrom(() => loadConfigFile(configFile).config)
  process.on('SIGHUP', reload)
  // logrotate's postrotate sends SIGUSR2: the audit file is reopened under its configured path.
  process.on('SIGUSR2', () => gateway.audit.reopen())
  // Polling, not fs.watch: it follows Kubernetes ConfigMap updates (a symlink swap) and editors
  // that replace the file, and costs one stat per interval.
  if (config.lifecycle.watchConfig) watchFile(configFile, { interval: 1000, persistent: false }, (now, before) => {
    if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) reload()
  })
  return { gateway, config }
}

/** The shutdown as operators read it in the log: when it began, what it waits for, that it ended well. */
async function shutdown(gateway: Gateway, config: LoadedConfig['config'], signal: NodeJS.Signals): Promise<void> {
  const started = Date.now()
  const { shutdownDelayMs, shutdownGraceMs } = config.lifecycle
  gateway.app.log.info({ signal, shutdownDelayMs, shutdownGraceMs }, 'psc-gateway shutting down: not ready, new requests get 503')
  try {
    await gateway.close()
  } catch (err) {
    gateway.app.log.error({ signal, error: err instanceof Error ? err.message : String(err) }, 'psc-gateway shutdown failed')
    throw err
  }
  gateway.app.log.info({ signal, durationMs: Date.now() - started }, 'psc-gateway stopped cleanly')
}

// The emulator and the demo app are loaded only by the commands that run them (dev-tools.ts):
// the product never loads them (nor oidc-provider), and the production build leaves them out.

/** must match psc.serviceName in config/demo.yaml: the dénomination the notification shows */
const DEMO_SERVICE_NAME = 'Démo psc-gateway'

async function demo(): Promise<void> {
  const started = performance.now()
  const [{ startEmulator }, { startDemoApp }] = await Promise.all([loadEmulator(), loadDemoApp()])
  const env = process.env
  const gatewayPort = Number(env.GATEWAY_PORT ?? 8080)
  const emulatorPort = Number(env.EMULATOR_PORT ?? 8081)
  const demoPort = Number(env.DEMO_APP_PORT ?? 8082)
  const publicUrl = `http://localhost:${gatewayPort}`
  const clientSecret = env.PSC_CLIENT_SECRET ?? 'demo-client-secret-not-for-production'
  const app = await startDemoApp(demoPort)
  const emulator = await startEmulator({
    port: emulatorPort,
    clients: [{ clientId: 'psc-gateway-demo', clientSecret, redirectUris: [`${publicUrl}/_psc/callback`], postLogoutRedirectUris: [`${publicUrl}/_psc/logged-out`], serviceName: DEMO_SERVICE_NAME }],
    // the demo's CIBA answers quickly (PSC's own interval is a few seconds)
    ciba: { intervalSeconds: 1 }
  })
  const { config } = loadOrExit(join(PACKAGE_ROOT, 'config', 'demo.yaml'), {
    ...env, PSC_ISSUER: emulator.issuer, GATEWAY_PORT: String(gatewayPort), DEMO_APP_PORT: String(demoPort)
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
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string' },
      host: { type: 'string' },
      practitioners: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-uri': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      users: { type: 'string' },
      // audit verify / query
      'key-env': { type: 'string', multiple: true },
      'key-file': { type: 'string', multiple: true },
      'expect-head': { type: 'string' },
      client: { type: 'string' },
      session: { type: 'string' },
      'path-prefix': { type: 'string' },
      status: { type: 'string' },
      verify: { type: 'boolean' },
      'keep-order': { type: 'boolean' },
      idnat: { type: 'string' },
      route: { type: 'string' },
      decision: { type: 'string' },
      event: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      format: { type: 'string' }
    },
    allowPositionals: true
  })
  switch (command) {
    case 'serve': {
      if (!values.config) throw new UsageError('serve needs --config FILE')
      const { gateway, config } = await serve(values.config)
      stopOnSignals(async (signal) => {
        await shutdown(gateway, config, signal)
        // The count went to stderr already (audit/sinks.ts); the exit code tells the supervisor.
        if (gateway.audit.unwritten > 0) throw new Error(`${gateway.audit.unwritten} audit event(s) could not be written`)
      })
      return
    }
    case 'check': {
      if (!values.config) throw new UsageError('check needs --config FILE')
      const { config, warnings } = loadOrExit(values.config)
      process.stdout.write(`${values.config}: OK (${warnings.length} warning${warnings.length === 1 ? '' : 's'})\n\n`)
      process.stdout.write(`PSC: ${config.psc.environment}, issuer ${config.psc.issuer}, client ${config.psc.clientId}, acr >= ${config.psc.acr}\n`)
      process.stdout.write(`Public URL: ${config.publicUrl} (callback ${config.psc.redirectUri})\n`)
      process.stdout.write(describePscConnection(config) + '\n')
      if (config.accounts !== undefined) {
        const a = config.accounts
        process.stdout.write(`Local accounts: ${a.source === 'file' ? `mapping file ${a.file}` : `directory ${a.ldap!.url}${a.ldap!.startTls ? ' (StartTLS)' : ''}, base ${a.ldap!.baseDn}, filter ${a.ldap!.filter}`}\n\n`)
      }
      process.stdout.write(describeRouteTable(compileRoutes(config.routes)) + '\n')
      return
    }
    case 'doctor':
      if (!values.config) throw new UsageError('doctor needs --config FILE')
      process.exitCode = await doctorCommand(values.config, values.json === true)
      return
    case 'raccordement':
      if (!values.config) throw new UsageError('raccordement needs --config FILE')
      process.exitCode = raccordementCommand(values.config, values.json === true, values.users)
      return
    case 'demo':
      return demo()
    case 'emulator': {
      const { startEmulator } = await loadEmulator()
      const port = Number(values.port ?? 8081)
      const emulator = await startEmulator({
        port,
        host: values.host,
        practitionersFile: values.practitioners,
        clients: [{
          clientId: values['client-id'] ?? 'psc-gateway-demo',
          clientSecret: values['client-secret'] ?? 'demo-client-secret-not-for-production',
          redirectUris: values['redirect-uri'] ?? ['http://localhost:8080/_psc/callback'],
          postLogoutRedirectUris: values['post-logout-uri'] ?? ['http://localhost:8080/_psc/logged-out']
        }]
      })
      process.stdout.write(`PSC emulator: issuer ${emulator.issuer}\ndiscovery ${emulator.discoveryUrl}\n`)
      stopOnSignals(() => emulator.close())
      return
    }
    case 'demo-app': {
      const { startDemoApp } = await loadDemoApp()
      const app = await startDemoApp(Number(values.port ?? 8082), values.host)
      process.stdout.write(`demo app on ${app.url}\n`)
      stopOnSignals(() => app.close())
      return
    }
    case 'audit':
      process.exitCode = await runAuditCommand(positionals, values)
      return
    case 'schema':
      process.stdout.write(configJsonSchemaText())
      return
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE)
      return
    default:
      throw new UsageError(`unknown command "${command}"`)
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof NotInThisBuild) {
    process.stderr.write(`psc-gateway: ${err.message}\n`)
    process.exit(2)
  }
  if (err instanceof UsageError || err instanceof AuditUsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    process.stderr.write(`psc-gateway: ${(err as Error).message}\n\n${USAGE}`)
    process.exit(2)
  }
  process.stderr.write(`psc-gateway: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
