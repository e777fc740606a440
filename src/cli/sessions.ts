// psc-gateway sessions list|revoke: the security team's session control, through the admin API of
// a running gateway (never Redis directly: the gateway checks the token, audits who asked, and the
// memory store is only reachable through its own process).
import type { Command, ParsedArgs } from './command.js'
import { UsageError } from './command.js'
import { sessionsTable, type ListedSession } from './sessions-table.js'

const USAGE = `  sessions list [--practitioner IDNAT|RPPS] [--json]
                           the live sessions (a French table, or the API's JSON)
  sessions revoke REF      end one session, by the reference the list shows (never a cookie)
  sessions revoke --practitioner IDNAT|RPPS
                           end every session of a practitioner (stolen card, a practitioner who left)
  Where: --config FILE (admin.host, admin.port and admin.tokenFile of the running gateway's configuration),
  or --admin-url URL and --token-file FILE. Effective on every replica sharing the session store.
`

async function adminTarget(args: ParsedArgs, command: Command): Promise<{ url: string; token: string }> {
  const v = args.values
  let url = typeof v['admin-url'] === 'string' ? v['admin-url'] : undefined
  let tokenFile = typeof v['token-file'] === 'string' ? v['token-file'] : undefined
  if (typeof v.config === 'string') {
    const { loadOrRefuse } = await import('./config-file.js')
    const { config } = loadOrRefuse(v.config, process.env, 'check')
    const host = config.admin.host.includes(':') ? `[${config.admin.host}]` : config.admin.host
    url ??= `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${config.admin.port}`
    tokenFile ??= config.admin.tokenFile
  }
  if (url === undefined) throw new UsageError('say which gateway: --config FILE, or --admin-url URL', command)
  if (tokenFile === undefined)
    throw new UsageError('the admin token is needed: admin.tokenFile in --config, or --token-file FILE', command)
  const { readAdminToken } = await import('../ops/admin-token.js')
  const read = readAdminToken(tokenFile)
  if ('problem' in read) throw new CliFailure(`jeton d'administration inutilisable : ${read.problem}`)
  return { url: url.replace(/\/+$/, ''), token: read.token }
}

/** A failure to report in one French line, exit code 1. */
class CliFailure extends Error {}

async function call(
  target: { url: string; token: string },
  method: 'GET' | 'DELETE',
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response
  try {
    res = await fetch(`${target.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, accept: 'application/json', 'accept-language': 'fr' },
      signal: AbortSignal.timeout(10_000),
    })
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
    throw new CliFailure(
      `la passerelle ne répond pas sur ${target.url} (${cause}) : est-elle démarrée, avec admin.enabled ?`,
    )
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>
  return { status: res.status, body }
}

function failed(status: number, body: Record<string, unknown>): CliFailure {
  const message = typeof body.message === 'string' ? body.message : `réponse ${status} de la passerelle`
  return new CliFailure(message)
}

const practitionerQuery = (p: unknown) => (typeof p === 'string' ? `?practitioner=${encodeURIComponent(p)}` : '')

async function list(args: ParsedArgs, command: Command): Promise<number> {
  const target = await adminTarget(args, command)
  const { status, body } = await call(target, 'GET', `/sessions${practitionerQuery(args.values.practitioner)}`)
  if (status !== 200) throw failed(status, body)
  const sessions = (body.sessions ?? []) as ListedSession[]
  process.stdout.write(args.values.json ? `${JSON.stringify(sessions, null, 2)}\n` : sessionsTable(sessions))
  return 0
}

async function revoke(args: ParsedArgs, command: Command): Promise<number> {
  const ref = args.positionals[1]
  const practitioner = args.values.practitioner
  if ((ref === undefined) === (practitioner === undefined))
    throw new UsageError('sessions revoke: give either a session reference or --practitioner, not both', command)
  const target = await adminTarget(args, command)
  const path =
    ref !== undefined ? `/sessions/${encodeURIComponent(ref)}` : `/sessions${practitionerQuery(practitioner)}`
  const { status, body } = await call(target, 'DELETE', path)
  if (status !== 200) throw failed(status, body)
  const ended = (body.revoked ?? []) as ListedSession[]
  if (args.values.json) process.stdout.write(`${JSON.stringify(ended, null, 2)}\n`)
  else if (ended.length === 0) process.stdout.write('Aucune session en cours pour ce praticien : rien à terminer.\n')
  else
    process.stdout.write(
      `${ended.length === 1 ? '1 session terminée' : `${ended.length} sessions terminées`} (sur toutes les instances) :\n${sessionsTable(ended)}`,
    )
  return 0
}

export const sessionsCommand: Command = {
  name: 'sessions',
  summary: 'List or end the live sessions of a running gateway (admin API).',
  usage: 'list|revoke [REF] [options]',
  details: USAGE.replace(/^ {2}/gm, ''),
  positionals: true,
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', description: "the running gateway's configuration" },
    'admin-url': { type: 'string', value: 'URL', description: 'its admin listener, e.g. http://127.0.0.1:9090' },
    'token-file': { type: 'string', value: 'FILE', description: 'the file holding the admin token' },
    practitioner: { type: 'string', value: 'IDNAT|RPPS', description: 'one practitioner (idNat or RPPS number)' },
    json: { type: 'boolean', description: 'JSON instead of the table' },
  },
  async run(args) {
    const sub = args.positionals[0]
    try {
      if (sub === 'list') {
        if (args.positionals.length > 1)
          throw new UsageError(`sessions list takes no argument, got "${args.positionals[1]}"`, sessionsCommand)
        return await list(args, sessionsCommand)
      }
      if (sub === 'revoke') return await revoke(args, sessionsCommand)
    } catch (err) {
      if (!(err instanceof CliFailure)) throw err
      process.stderr.write(`psc-gateway sessions : ${err.message}\n`)
      return 1
    }
    throw new UsageError(
      sub === undefined ? 'sessions: say list or revoke' : `sessions: unknown subcommand "${sub}" (list or revoke)`,
      sessionsCommand,
    )
  },
}
