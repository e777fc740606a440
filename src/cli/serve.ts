// psc-gateway serve / check: run the gateway from a configuration file, or only validate it.
import cluster from 'node:cluster'
import { watchFile } from 'node:fs'
import type { LoadedConfig } from '../config/load.js'
import { required, type Command } from './command.js'
import { stopOnSignals } from './stop-on-signals.js'

const CONFIG = { type: 'string', short: 'c', value: 'FILE', description: 'the YAML configuration (required)' } as const

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run the gateway.',
  usage: '--config FILE',
  details:
    'SIGHUP (or a change of FILE) reloads routes, upstreams and headers; SIGUSR2 reopens the audit file;\nSIGTERM drains requests in flight, then stops (exit 1 if audit events were lost).\n' +
    'workers: in FILE: 1 (the default; Kubernetes: scale with replicas) or auto / N on a VM: a primary\nprocess holds the audit file, the admin port and the reload, and N workers serve the public port.',
  options: { config: CONFIG },
  async run(args) {
    const configFile = required(args, 'config', serveCommand)
    // A worker of the cluster (workers > 1) runs the same command: it takes its configuration from the primary.
    if (cluster.isWorker) {
      const { runWorker } = await import('../cluster/worker.js')
      await runWorker()
      return undefined
    }
    // Loaded here, not at the top: help, init, schema and audit start without the gateway's modules.
    const [{ applyGatewayRuntimeTuning }, { loadOrRefuse }, { loadConfigFile }, { workerCount }] = await Promise.all([
      import('../ops/runtime-tuning.js'),
      import('./config-file.js'),
      import('../config/load.js'),
      import('../config/sections/workers.js'),
    ])
    applyGatewayRuntimeTuning()
    const { config } = loadOrRefuse(configFile)
    const count = workerCount(config.workers)
    const running = count > 1 ? await startCluster(config, count) : await startOne(config)
    const reload = () => running.reloadFrom(() => loadConfigFile(configFile).config)
    process.on('SIGHUP', reload)
    // logrotate's postrotate sends SIGUSR2: the audit file is reopened under its configured path.
    process.on('SIGUSR2', () => running.reopenAudit())
    // Polling, not fs.watch: it follows Kubernetes ConfigMap updates (a symlink swap) and editors
    // that replace the file, and costs one stat per interval.
    if (config.lifecycle.watchConfig)
      watchFile(configFile, { interval: 1000, persistent: false }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) reload()
      })
    stopOnSignals(
      async (signal) => {
        const unwritten = await shutdown(running, config, signal)
        // The count went to stderr already (audit/sinks.ts); the exit code tells the supervisor.
        if (unwritten > 0) throw new Error(`${unwritten} audit event(s) could not be written`)
      },
      (signal) =>
        running.log.info({ signal }, 'psc-gateway shutdown already under way: signal ignored, the drain goes on'),
    )
    return undefined
  },
}

/** A running `serve`, one process or a cluster's primary, as the signals drive it. */
interface Running {
  log: { info(o: object, msg: string): void; error(o: object, msg: string): void }
  reloadFrom(load: () => LoadedConfig['config']): void
  reopenAudit(): void
  /** drains and closes; resolves with the audit events that could not be written */
  stop(): Promise<number>
}

async function startOne(config: LoadedConfig['config']): Promise<Running> {
  const [{ buildGateway }, { waitForStore }] = await Promise.all([
    import('../gateway.js'),
    import('../session/store-ready.js'),
  ])
  const gateway = await buildGateway(config)
  await waitForStore(gateway.sessions.store, gateway.app.log)
  const { url, adminUrl } = await gateway.listen()
  gateway.app.log.info({ url, adminUrl, publicUrl: config.publicUrl }, 'psc-gateway listening')
  return {
    log: gateway.app.log,
    reloadFrom: (load) => void gateway.reloadFrom(load),
    reopenAudit: () => gateway.audit.reopen(),
    stop: async () => {
      await gateway.close()
      return gateway.audit.unwritten
    },
  }
}

async function startCluster(config: LoadedConfig['config'], count: number): Promise<Running> {
  const { runPrimary } = await import('../cluster/primary.js')
  const primary = await runPrimary(config, count)
  primary.log.info(
    { url: primary.url, adminUrl: primary.adminUrl, publicUrl: config.publicUrl, workers: count },
    'psc-gateway listening',
  )
  return primary
}

/** The shutdown as operators read it in the log: when it began, what it waits for, how it ended. */
async function shutdown(running: Running, config: LoadedConfig['config'], signal: NodeJS.Signals): Promise<number> {
  const started = Date.now()
  const { shutdownDelayMs, shutdownGraceMs } = config.lifecycle
  running.log.info(
    { signal, shutdownDelayMs, shutdownGraceMs },
    'psc-gateway shutting down: not ready, new requests get 503',
  )
  let unwritten: number
  try {
    unwritten = await running.stop()
  } catch (err) {
    running.log.error(
      { signal, error: err instanceof Error ? err.message : String(err) },
      'psc-gateway shutdown failed',
    )
    throw err
  }
  if (unwritten > 0)
    running.log.error(
      { signal, durationMs: Date.now() - started, unwritten },
      'psc-gateway stopped; audit events could not be written',
    )
  else running.log.info({ signal, durationMs: Date.now() - started }, 'psc-gateway stopped cleanly')
  return unwritten
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'Validate a configuration and print its route table, without starting anything.',
  usage: '--config FILE',
  details: 'Exit code 0 when the configuration is valid, 1 otherwise (each error with its file, line and key).',
  options: { config: CONFIG },
  async run(args) {
    const file = required(args, 'config', checkCommand)
    const [{ loadOrRefuse }, { describePscConnection }, { compileRoutes, describeRouteTable }, { workerCount }] =
      await Promise.all([
        import('./config-file.js'),
        import('./production-reports.js'),
        import('../policy/rules.js'),
        import('../config/sections/workers.js'),
      ])
    const { config, warnings } = loadOrRefuse(file, process.env, 'check')
    const out = process.stdout
    out.write(`${file}: OK (${warnings.length} warning${warnings.length === 1 ? '' : 's'})\n\n`)
    out.write(
      `PSC: ${config.psc.environment}, issuer ${config.psc.issuer}, client ${config.psc.clientId}, acr >= ${config.psc.acr}\n`,
    )
    out.write(`Public URL: ${config.publicUrl} (callback ${config.psc.redirectUri})\n`)
    const workers = workerCount(config.workers)
    out.write(
      `Workers: ${workers === 1 ? '1 process' : `${workers} processes and a primary (audit, admin, reload)`}${config.workers === 'auto' ? ', auto: one per core' : ''}\n`,
    )
    const tls = config.listen.tls
    if (tls !== undefined) {
      const redirect = config.listen.httpRedirect
      out.write(
        `HTTPS: port ${config.listen.port}, certificate ${tls.cert}, ${tls.minVersion} or later${redirect === undefined ? '' : `, HTTP port ${redirect.port} redirects`}\n`,
      )
    }
    out.write(`${describePscConnection(config)}\n`)
    if (config.accounts !== undefined) {
      const a = config.accounts
      out.write(
        `Local accounts: ${a.source === 'file' ? `mapping file ${a.file}` : `directory ${a.ldap!.url}${a.ldap!.startTls ? ' (StartTLS)' : ''}, base ${a.ldap!.baseDn}, filter ${a.ldap!.filter}`}\n\n`,
      )
    }
    out.write(`${describeRouteTable(compileRoutes(config.routes))}\n`)
    return 0
  },
}
