// How the workers of `serve`'s cluster share the public port. Measured on a 2-core VM (docs/vm.md,
// "Several processes"): see there for the figures behind the choice.
export type PortSharing = 'round-robin' | 'reuseport'

/** The choice, with PSC_GATEWAY_PORT_SHARING for the bench that measures both (bench/cluster.ts). */
export function portSharing(env: NodeJS.ProcessEnv = process.env): PortSharing {
  const asked = env.PSC_GATEWAY_PORT_SHARING
  if (asked === 'round-robin' || asked === 'reuseport') return asked
  return 'reuseport'
}
