// Is the request on the gateway's public host? A login can only finish there: PSC sends the
// browser back to publicUrl's callback, and the login cookie belongs to that host. Ports are not
// compared: a proxy in front may drop or change them, and the host name is what a cookie follows.
import { hostWithoutPort } from './rules.js'

/** publicUrl's host name, lowercased, without port or trailing dot. */
export function publicHostOf(publicUrl: string): string {
  return hostWithoutPort(new URL(publicUrl).host)
}

/** `requestHost` is the Host header (or X-Forwarded-Host from a trusted proxy), port included. */
export function isPublicHost(requestHost: string | undefined, publicHost: string): boolean {
  if (requestHost === undefined || requestHost === '') return false
  return hostWithoutPort(requestHost) === publicHost
}
