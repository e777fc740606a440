// The schemas of the events of a practitioner's session: login (by redirect or CIBA), the CIBA
// request, logout, the session's life, and the IT charter accepted.
import { Type } from '@sinclair/typebox'

import { Common, object, OptionalRequestFacts, RequestFacts, Str } from './schema-parts.js'

export const LoginEventSchema = object(
  {
    ...Common,
    event: Type.Literal('login'),
    outcome: Type.Union([Type.Literal('started'), Type.Literal('succeeded'), Type.Literal('failed')]),
    reason: Type.Optional(Str('Why the login failed: an outcome code PSC_ERR_LOGIN_*')),
    detail: Type.Optional(Str('Technical detail of the failure, e.g. what PSC answered')),
    acr: Type.Optional(Str('Authentication level PSC asserted (eidas1, ...)')),
    authMode: Type.Optional(Str('How the practitioner authenticated (CARD, MOBILE, ...)')),
    loginMethod: Type.Optional(
      Type.Union([Type.Literal('redirect'), Type.Literal('ciba')], {
        description: 'redirect: through the PSC login page (absent in older events); ciba: by a push to the e-CPS app',
      }),
    ),
    account: Type.Optional(
      Str(
        'Local account found at login (accounts:): its login, "none" when there is none, "unavailable" when the directory did not answer, "duplicate" when several entries match, "disabled" when the Active Directory account is disabled',
      ),
    ),
    ...RequestFacts,
  },
  'A PSC login: started (sent to PSC), succeeded, failed',
)

export const CibaEventSchema = object(
  {
    ...Common,
    event: Type.Literal('ciba'),
    outcome: Type.Union(
      [
        Type.Literal('requested'),
        Type.Literal('refused'),
        Type.Literal('approved'),
        Type.Literal('denied'),
        Type.Literal('expired'),
        Type.Literal('unknown_id'),
        Type.Literal('failed'),
        Type.Literal('cancelled'),
      ],
      {
        description:
          'requested: a push was sent to the practitioner; refused: not sent (abuse limits, bad input); approved/denied: the ' +
          "practitioner's answer; expired: no answer in time; unknown_id: PSC knows no such practitioner; failed: PSC error or unreachable; " +
          'cancelled: given up in the browser',
      },
    ),
    ...OptionalRequestFacts,
    idNat: Str('The national id the push was (or would have been) sent to'),
    client: Str('Client address that asked for it, as seen through the trusted proxies'),
    cibaRequest: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]{16}$',
        description: 'Reference of the CIBA request (a hash, never its id): ties the outcome to the request',
      }),
    ),
    reason: Type.Optional(Str('Details: which limit applied, what PSC answered')),
  },
  'A CIBA request (login by a push to the e-CPS app): who was asked, from where, and how it ended',
)

export const LogoutEventSchema = object(
  {
    ...Common,
    event: Type.Literal('logout'),
    cause: Type.Union(
      [
        Type.Literal('user'),
        Type.Literal('backchannel'),
        Type.Literal('idle-expired'),
        Type.Literal('absolute-expired'),
        Type.Literal('revoked'),
      ],
      {
        description:
          'user: the practitioner logged out; backchannel: PSC said so; idle-expired/absolute-expired: timeouts; revoked: PSC refused to renew the session, or an operator ended it',
      },
    ),
    sessionsEnded: Type.Optional(
      Type.Integer({ description: 'Back-channel: how many local sessions the logout ended' }),
    ),
    reason: Type.Optional(Str('Details, e.g. why PSC refused to renew the session')),
    sessionDurationMs: Type.Optional(
      Type.Integer({ minimum: 0, description: 'How long the session lasted, from login to its end, in milliseconds' }),
    ),
    ...OptionalRequestFacts,
  },
  "A practitioner's session ended as a logout",
)

export const SessionEventSchema = object(
  {
    ...Common,
    event: Type.Literal('session'),
    outcome: Type.Union([Type.Literal('created'), Type.Literal('refreshed'), Type.Literal('ended')]),
    reason: Type.Optional(
      Str(
        'Why a session ended: logout, replaced (a new login in the same browser), idle-expired, absolute-expired, backchannel, revoked, store-lost (the session store lost it: restart, eviction, Redis flushed), admin-revoked (ended through the admin session API, see the admin event), superseded (session.onePerPractitioner: the practitioner logged in again)',
      ),
    ),
    sessionDurationMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'ended: how long the session lasted, from login to its end, in milliseconds',
      }),
    ),
    noticed: Type.Optional(
      Type.Union([Type.Literal('request'), Type.Literal('store'), Type.Literal('shutdown')], {
        description:
          'ended: noticed at a request of the practitioner, by the session store (its sweep of expired sessions: the practitioner may never come back), ' +
          'or at shutdown (store-lost: the memory store loses every live session when the gateway stops)',
      }),
    ),
    sessionsLost: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'ended at shutdown: how many more sessions were lost than the events listing them one by one (at most 1000 are listed)',
      }),
    ),
    ...OptionalRequestFacts,
  },
  'Server-side session life',
)

export const CharterEventSchema = object(
  {
    ...Common,
    event: Type.Literal('charter'),
    outcome: Type.Literal('accepted', {
      description: 'accepted: the practitioner accepted this version of the IT charter',
    }),
    idNat: Str('National identifier of the practitioner who accepted'),
    charterVersion: Str('The version of the IT charter accepted (charter.version)'),
    ...Type.Omit(Type.Object(OptionalRequestFacts), ['idNat']).properties,
  },
  "The IT charter (charte d'utilisation du SI) accepted: who, which version; the event's time is when",
)
