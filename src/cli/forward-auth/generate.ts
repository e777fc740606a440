// One entry per front proxy the gateway writes a forward-auth configuration for.
import type { ForwardAuthContract } from './contract.js'
import { caddyConfig } from './caddy.js'
import { haproxyConfig } from './haproxy.js'
import { haproxyLua } from './haproxy-lua.js'
import { nginxConfig } from './nginx.js'

const GENERATORS = {
  nginx: nginxConfig,
  caddy: caddyConfig,
  haproxy: haproxyConfig,
  'haproxy-lua': haproxyLua
} satisfies Record<string, (c: ForwardAuthContract) => string>

export type ProxyKind = keyof typeof GENERATORS
export const PROXY_KINDS = Object.keys(GENERATORS) as ProxyKind[]

export function isProxyKind (name: string): name is ProxyKind {
  return Object.hasOwn(GENERATORS, name)
}

export function generateForwardAuth (proxy: ProxyKind, contract: ForwardAuthContract): string {
  return GENERATORS[proxy](contract)
}
