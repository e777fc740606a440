// The Gateway API HTTPRoute (gateway.networking.k8s.io/v1) as far as the chart renders it, strict
// (an unknown field is an error), for the offline schema check: kubernetes-models has no Gateway
// API types. Field names and limits from the v1 CRD (parentRefs, hostnames, rules: matches,
// filters, backendRefs).
import { Type, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

const strict = <T extends Record<string, TSchema>>(props: T) => Type.Object(props, { additionalProperties: false })
const Name = Type.String({ minLength: 1, maxLength: 253 })
const Hostname = Type.String({
  pattern: '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  maxLength: 253,
})
const Port = Type.Integer({ minimum: 1, maximum: 65535 })

const ParentRef = strict({
  group: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  namespace: Type.Optional(Name),
  name: Name,
  sectionName: Type.Optional(Name),
  port: Type.Optional(Port),
})
const Match = strict({
  path: Type.Optional(
    strict({
      type: Type.Optional(
        Type.Union([Type.Literal('Exact'), Type.Literal('PathPrefix'), Type.Literal('RegularExpression')]),
      ),
      value: Type.Optional(Type.String({ maxLength: 1024 })),
    }),
  ),
  headers: Type.Optional(Type.Array(Type.Object({ name: Type.String(), value: Type.String() }))),
  queryParams: Type.Optional(Type.Array(Type.Object({ name: Type.String(), value: Type.String() }))),
  method: Type.Optional(Type.String()),
})
const Filter = Type.Object({ type: Type.String({ minLength: 1 }) })
const BackendRef = strict({
  group: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  namespace: Type.Optional(Name),
  name: Name,
  port: Type.Optional(Port),
  weight: Type.Optional(Type.Integer({ minimum: 0 })),
  filters: Type.Optional(Type.Array(Filter)),
})
const Metadata = Type.Object({
  name: Name,
  namespace: Type.Optional(Name),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
})

export const HTTPRouteSchema = strict({
  apiVersion: Type.Literal('gateway.networking.k8s.io/v1'),
  kind: Type.Literal('HTTPRoute'),
  metadata: Metadata,
  spec: strict({
    parentRefs: Type.Array(ParentRef, { minItems: 1, maxItems: 32 }),
    hostnames: Type.Optional(Type.Array(Hostname, { maxItems: 16 })),
    rules: Type.Array(
      strict({
        name: Type.Optional(Name),
        matches: Type.Optional(Type.Array(Match, { maxItems: 64 })),
        filters: Type.Optional(Type.Array(Filter, { maxItems: 16 })),
        backendRefs: Type.Optional(Type.Array(BackendRef, { maxItems: 16 })),
        timeouts: Type.Optional(
          strict({ request: Type.Optional(Type.String()), backendRequest: Type.Optional(Type.String()) }),
        ),
      }),
      { maxItems: 16 },
    ),
  }),
})

/** a model as render-check.ts takes them: validate() throws what is wrong */
export const HTTPRoute = {
  prototype: {
    validate(this: unknown): void {
      const first = [...Value.Errors(HTTPRouteSchema, this)][0]
      if (first) throw new Error(`${first.path || '/'}: ${first.message}`)
    },
  },
}
