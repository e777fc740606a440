// Logs a test practitioner in through the PSC emulator, for any relying party (the gateway, or a
// bare openid-client RP): start at the RP's login URL, pick the practitioner on the emulator page,
// follow everything back to the RP.

import { parseForms, type BrowserLikeClient, type BrowserResponse } from './browser-like-client.js'

export const EMULATOR_LOGIN_TITLE = 'Pro Santé Connect — émulateur local'

/** true when `res` is the emulator's practitioner list */
export function isEmulatorLoginPage(res: BrowserResponse): boolean {
  return res.status === 200 && res.body.includes(EMULATOR_LOGIN_TITLE) && res.body.includes('name="practitioner"')
}

/**
 * GET startUrl (following redirects) to the emulator's login page, press the button of `idNat`,
 * follow redirects back to the relying party; returns the last response (usually the RP's page or
 * whatever its callback answered). Throws when the login page is not reached or lacks `idNat`.
 */
export async function loginThroughEmulator(
  client: BrowserLikeClient,
  startUrl: string,
  idNat: string,
  opts: { maxRedirects?: number } = {},
): Promise<BrowserResponse> {
  const maxRedirects = opts.maxRedirects ?? 20
  const page = await client.follow(startUrl, maxRedirects)
  if (!isEmulatorLoginPage(page)) {
    throw new Error(
      `loginThroughEmulator: ${startUrl} did not lead to the emulator login page; ended at ${page.url} ` +
        `(status ${page.status}): ${page.body.slice(0, 300)}`,
    )
  }
  const escaped = idNat
    .replaceAll('&', '&amp;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
  if (!page.body.includes(`value="${escaped}"`)) {
    throw new Error(`loginThroughEmulator: no practitioner button for idNat ${JSON.stringify(idNat)} on ${page.url}`)
  }
  const form = parseForms(page.body, page.url).find((f) => f.method === 'POST')
  if (form === undefined) throw new Error(`loginThroughEmulator: no POST form on ${page.url}`)
  return client.follow(form.action, maxRedirects, { form: { ...form.fields, practitioner: idNat } })
}
