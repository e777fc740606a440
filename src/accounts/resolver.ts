// Finds the practitioner's local account at login and with the session's refresh, never per
// request: the answer is kept in the session (identity.account) and the request path only reads it.
import type { AccountsSettings } from '../config/types.js'
import type { AccountLookup, Identity } from '../psc/identity.js'
import { LdapAccountSource, type LookupOutcome } from './ldap-source.js'
import { MappingFileSource } from './mapping-source.js'
import type { AccountSource, SourceHealth } from './source.js'

export interface AccountResolver {
  /** whom the "account not open" page names */
  readonly contact: string
  readonly kind: 'file' | 'ldap'
  /** never throws; bounded by the source's timeout */
  resolve(identity: Identity): Promise<AccountLookup>
  /** whether the session's account should be looked up again (cheap: on the request path) */
  due(identity: Identity, now: number): boolean
  health(): SourceHealth
  close(): Promise<void>
}

export interface ResolverOptions {
  now?: () => number
  observe?: (outcome: LookupOutcome) => void
  /** operational log of the source's problems (directory down and back, mapping file broken) */
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void }
  /** how often the directory is probed for readiness (default 30 s; 0: never) */
  probeEveryMs?: number
}

/** Builds the configured source; throws MappingFileError when the mapping file has a bad line. */
export function createAccountResolver(settings: AccountsSettings, options: ResolverOptions = {}): AccountResolver {
  const now = options.now ?? Date.now
  const log = options.log
  let source: AccountSource
  let probe: NodeJS.Timeout | undefined
  if (settings.source === 'file') {
    source = new MappingFileSource(settings.file!, now, (message) => log?.warn({ file: settings.file }, message))
  } else {
    const ldap = new LdapAccountSource(settings.ldap!, {
      now,
      ...(options.observe !== undefined && { observe: options.observe }),
      onStatus: (up, reason) =>
        up
          ? log?.info({ url: settings.ldap!.url }, 'account directory answering again')
          : log?.warn(
              { url: settings.ldap!.url, reason },
              'account directory not answering; cached answers used up to staleLimit',
            ),
      onDataProblem: (message) => log?.warn({ url: settings.ldap!.url }, message),
    })
    source = ldap
    const every = options.probeEveryMs ?? 30_000
    if (every > 0) {
      // at once: readiness tells what the directory said, never a guess made before asking it
      void ldap.probe()
      probe = setInterval(() => void ldap.probe(), every)
      probe.unref()
    }
  }
  return {
    contact: settings.contact,
    kind: settings.source,
    async resolve(identity) {
      try {
        const found = await source.lookup(identity)
        if (source.kind === 'file') options.observe?.(found.status === 'found' ? 'found' : 'none')
        return found
      } catch (err) {
        // A bug, not the directory: fail closed for routes that need an account.
        log?.warn({ err: { message: (err as Error).message } }, 'account lookup failed')
        return { status: 'unavailable', reason: `lookup failed: ${(err as Error).message}`, checkedAt: now() }
      }
    },
    due(identity, at) {
      const a = identity.account
      if (a === undefined) return true
      const every =
        a.status === 'unavailable' || (a.status === 'found' && a.stale === true)
          ? settings.retryEveryMs
          : settings.refreshEveryMs
      return at - a.checkedAt >= every
    },
    health: () => source.health(),
    async close() {
      clearInterval(probe)
      await source.close()
    },
  }
}

/** For the audit's login event: the login found, "none", or "unavailable". */
export function accountSummary(account: AccountLookup | undefined): string | undefined {
  if (account === undefined) return undefined
  return account.status === 'found' ? account.login : account.status
}
