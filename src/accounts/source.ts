// What every source of local accounts offers the resolver. A lookup never throws and never takes
// longer than the source's timeout: a directory that is down gives `unavailable`.
import type { AccountLookup, Identity } from '../psc/identity.js'

export interface SourceHealth {
  ok: boolean
  reason?: string
}

export interface AccountSource {
  readonly kind: 'file' | 'ldap'
  lookup(identity: Identity): Promise<AccountLookup>
  health(): SourceHealth
  close(): Promise<void>
}
