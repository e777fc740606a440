// One entry per front proxy the gateway writes a forward-auth configuration for.
import type { ForwardAuthContract } from './contract.js'
import { caddyConfig } from './caddy.js'
import { envoyConfig } from './envoy.js'
import { haproxyConfig } from './haproxy.js'
import { haproxyLua } from './haproxy-lua.js'
import { ingressNginxConfig } from './ingress-nginx.js'
import { nginxConfig } from './nginx.js'
import { traefikConfig } from './traefik.js'

const GENERATORS = {
  nginx: nginxConfig,
  'ingress-nginx': ingressNginxConfig,
  caddy: caddyConfig,
  haproxy: haproxyConfig,
  'haproxy-lua': haproxyLua,
  traefik: traefikConfig,
  envoy: envoyConfig,
} satisfies Record<string, (c: ForwardAuthContract) => string>

export type ProxyKind = keyof typeof GENERATORS
export const PROXY_KINDS = Object.keys(GENERATORS) as ProxyKind[]

export function isProxyKind(name: string): name is ProxyKind {
  return Object.hasOwn(GENERATORS, name)
}

export function generateForwardAuth(proxy: ProxyKind, contract: ForwardAuthContract): string {
  return GENERATORS[proxy](contract)
}
