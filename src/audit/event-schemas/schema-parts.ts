// The pieces every audit event schema is made of: what every event carries, what an event caused by
// an HTTP request carries, and the closed object they are written as.
import { Type, type TProperties } from '@sinclair/typebox'

import { AUDIT_SCHEMA_VERSION } from '../schema-version.js'

export const Str = (description: string) => Type.String({ description })

/** What every event carries, whatever happened. */
export const Common = {
  v: Type.Literal(AUDIT_SCHEMA_VERSION, { description: 'Schema version of this event' }),
  time: Type.String({
    pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$',
    description: 'When it happened, ISO 8601 UTC with milliseconds',
  }),
  worker: Type.Optional(
    Type.Integer({
      minimum: 1,
      description:
        'With workers > 1: the worker process that handled it (1 to workers); absent for what the primary itself wrote',
    }),
  ),
}

/** What an event caused by an HTTP request carries (all of it, once the response is done). */
export const RequestFacts = {
  requestId: Str('The request id (also sent upstream as X-Request-Id)'),
  client: Str('Client address as seen through the trusted proxies'),
  userAgent: Type.Optional(Str('User-Agent header as sent by the client')),
  session: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_-]{16}$',
      description: 'Reference of the session: a hash of its id, never the id',
    }),
  ),
  idNat: Type.Optional(Str('National identifier of the practitioner, when known')),
  profession: Type.Optional(Str('TRE_G15 profession code of the first exercice, when known')),
  route: Type.Optional(Str('Route name; "gateway:<endpoint>" for the gateway\'s own endpoints')),
  method: Str('HTTP method'),
  path: Str('Normalised path, without the query string ("(invalid)" when it could not be normalised)'),
  query: Type.Optional(Str("The query string, only with audit.includeQuery (never for the gateway's own endpoints)")),
  status: Type.Integer({ description: 'HTTP status of the response' }),
  durationMs: Type.Number({ description: 'Time from request to response, in milliseconds' }),
  aborted: Type.Optional(Type.Literal(true, { description: 'The client went away before the response was complete' })),
}
export const OptionalRequestFacts = Type.Partial(Type.Object(RequestFacts)).properties

export const object = <T extends TProperties>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, description })
