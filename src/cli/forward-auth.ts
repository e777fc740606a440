// forward-auth: the front proxy's configuration, written from the gateway's own (every configured
// identity header set by the gateway or cleared, whatever the client sent). Its work is in
// cli/forward-auth/.
import { basename } from 'node:path'
import { required, UsageError, type Command } from './command.js'
import { ConfigRefused } from './config-refused.js'

const KINDS = 'nginx|ingress-nginx|caddy|haproxy|haproxy-lua|traefik|envoy'

export const forwardAuthCommand: Command = {
  name: 'forward-auth',
  summary:
    'Print the forward-auth configuration of a front proxy (nginx, ingress-nginx, Caddy, HAProxy, Traefik, Envoy) for this configuration.',
  usage: `${KINDS} --config FILE [--upstream NAME] [--gateway URL]`,
  details:
    'Every identity header, account header and assertion header of the configuration is set by the gateway or cleared by the proxy.\n' +
    'Regenerate after changing headers, assertions or the prefix. haproxy-lua prints the Lua action the HAProxy configuration loads.',
  positionals: true,
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', description: 'the YAML configuration (required)' },
    upstream: { type: 'string', value: 'NAME', description: 'the upstream the proxy protects (default: the only one)' },
    gateway: {
      type: 'string',
      value: 'URL',
      description: 'where the proxy reaches the gateway (default: its listen address)',
    },
  },
  async run(args) {
    const [kind, ...extra] = args.positionals
    const { isProxyKind, generateForwardAuth } = await import('./forward-auth/generate.js')
    if (kind === undefined || !isProxyKind(kind) || extra.length > 0) {
      throw new UsageError(
        kind === undefined
          ? `which proxy? one of ${KINDS}`
          : `"${[kind, ...extra].join(' ')}": expected one of ${KINDS}`,
        forwardAuthCommand,
      )
    }
    const file = required(args, 'config', forwardAuthCommand)
    const [{ loadOrRefuse }, { forwardAuthContract, ContractError }] = await Promise.all([
      import('./config-file.js'),
      import('./forward-auth/contract.js'),
    ])
    const { config } = loadOrRefuse(file)
    try {
      const contract = forwardAuthContract(config, basename(file), {
        upstream: typeof args.values.upstream === 'string' ? args.values.upstream : undefined,
        gateway: typeof args.values.gateway === 'string' ? args.values.gateway : undefined,
      })
      process.stdout.write(generateForwardAuth(kind, contract))
    } catch (err) {
      if (err instanceof ContractError) throw new ConfigRefused(err.message)
      throw err
    }
    return 0
  },
}
