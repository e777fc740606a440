// session: the cookie, its secrets, the timeouts and the session store.
import { Type, type Static } from '@sinclair/typebox'
import type { Checks, ConfigSection } from '../checks.js'
import { parseDuration } from '../duration.js'
import { withMs, type WithMs } from '../duration-keys.js'
import { Duration, NonEmpty } from '../formats.js'
import type { RawConfig } from '../schema.js'
import { isSecure } from './server.js'

const StoreSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('memory'), Type.Literal('redis')], {
      default: 'memory',
      description: 'memory: one replica (sessions are lost at restart); redis: several replicas sharing sessions',
    }),
    maxSessions: Type.Integer({
      minimum: 1,
      default: 100000,
      description: 'memory store: most live sessions kept (least recently used evicted)',
    }),
    url: Type.Optional(
      Type.String({
        pattern: '^rediss?://',
        description:
          'redis store: redis://[user:password@]host:port/db (rediss:// for TLS). With sentinel: optional, only its credentials and db are used',
      }),
    ),
    keyPrefix: Type.String({ default: 'psc-gateway:', description: 'redis store: prefix of every key' }),
    commandTimeout: Duration(
      { default: '1s', description: 'redis store: a command slower than this fails (closed)' },
      { timer: true },
    ),
    tlsCaFile: Type.Optional(Type.String({ minLength: 1, description: 'redis store: CA bundle (PEM) for rediss://' })),
    sentinel: Type.Optional(
      Type.Object(
        {
          name: NonEmpty('The Sentinel master name'),
          hosts: Type.Array(Type.String({ pattern: '^[^:\\s]+:[0-9]+$', description: 'host:port of a Sentinel' }), {
            minItems: 1,
          }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, default: {} },
)

export const SessionSchema = Type.Object(
  {
    cookieName: Type.String({ pattern: '^[A-Za-z0-9_-]+$', default: 'psc_session' }),
    secrets: Type.Array(Type.String({ minLength: 32, description: 'At least 32 characters' }), {
      minItems: 1,
      description: 'The first signs new cookies; all verify (key rotation)',
    }),
    acceptedSecrets: Type.Array(Type.String({ minLength: 32, description: 'At least 32 characters' }), {
      default: [],
      description:
        'Verify cookies but never sign one: the first phase of a rotation across several replicas (add the next secret here everywhere, then make it the first of secrets)',
    }),
    idleTimeout: Duration({ default: '30m' }),
    absoluteTimeout: Duration({ default: '8h' }),
    loginTimeout: Duration({ default: '10m', description: 'How long a started login may take' }),
    onePerPractitioner: Type.Boolean({
      default: false,
      description: "One session per practitioner: a new login ends the practitioner's other sessions (audited)",
    }),
    store: StoreSchema,
  },
  { additionalProperties: false },
)

type StoreWritten = WithMs<Static<typeof StoreSchema>>

export type SessionStoreSettings = Omit<StoreWritten, 'sentinel'> & {
  sentinel?: { name: string; hosts: Array<{ host: string; port: number }> }
}

export type SessionSettings = Omit<WithMs<Static<typeof SessionSchema>>, 'store'> & {
  /** cookieName is the name actually used: "__Host-" + the configured name when publicUrl is https */
  store: SessionStoreSettings
}

const REDIS_ONLY = ['url', 'tlsCaFile', 'sentinel'] as const

function checkStore(store: RawConfig['session']['store'], checks: Checks): void {
  if (store.type === 'redis') {
    // With Sentinel the master's address comes from the Sentinels; a URL then only carries the
    // credentials, the database and rediss:// (TLS), and may be left out.
    if (store.url === undefined && store.sentinel === undefined)
      checks.error(
        ['session', 'store', 'type'],
        'store type "redis" requires session.store.url (redis://host:port/db) or session.store.sentinel',
      )
    return
  }
  for (const key of REDIS_ONLY) {
    if (store[key] !== undefined)
      checks.error(['session', 'store', key], `${key} applies to the redis store only; set type: redis or remove it`)
  }
}

function hostAndPort(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':')
  return { host: text.slice(0, colon), port: Number(text.slice(colon + 1)) }
}

function convertStore(store: RawConfig['session']['store']): SessionStoreSettings {
  const { sentinel, ...rest } = withMs(StoreSchema, store)
  return {
    ...rest,
    ...(sentinel !== undefined && { sentinel: { name: sentinel.name, hosts: sentinel.hosts.map(hostAndPort) } }),
  }
}

export const session: ConfigSection<'session'> = {
  check(raw, checks) {
    const s = raw.session
    const idle = parseDuration(s.idleTimeout)
    const absolute = parseDuration(s.absoluteTimeout)
    if (idle !== undefined && absolute !== undefined && absolute < idle) {
      const at = checks.wrote(['session', 'absoluteTimeout']) ? 'absoluteTimeout' : 'idleTimeout'
      checks.error(
        ['session', at],
        `absoluteTimeout (${s.absoluteTimeout}) must be at least idleTimeout (${s.idleTimeout})`,
      )
    }
    checkStore(s.store, checks)
    // secrets: distinct (signing and accepted ones together), and never echoed
    s.secrets.forEach((secret, j) => {
      const i = s.secrets.indexOf(secret)
      if (i !== j)
        checks.error(
          ['session', 'secrets', String(j)],
          `this secret is the same as session.secrets[${i}]; each secret must be distinct`,
        )
    })
    const accepted = s.acceptedSecrets ?? []
    accepted.forEach((secret, j) => {
      const i = s.secrets.indexOf(secret)
      if (i !== -1)
        checks.error(
          ['session', 'acceptedSecrets', String(j)],
          `this secret is already session.secrets[${i}]: a secret either signs (secrets) or only verifies (acceptedSecrets)`,
        )
      else if (accepted.indexOf(secret) !== j)
        checks.error(
          ['session', 'acceptedSecrets', String(j)],
          `this secret is the same as session.acceptedSecrets[${accepted.indexOf(secret)}]; each secret must be distinct`,
        )
    })
  },
  convert(raw) {
    const s = withMs(SessionSchema, raw.session)
    return {
      session: {
        ...s,
        cookieName: isSecure(raw) ? `__Host-${s.cookieName}` : s.cookieName,
        store: convertStore(raw.session.store),
      },
    }
  },
}
