// Drives a CIBA login the way a browser without JavaScript does: the login page's form, the
// waiting page (reloaded), and the practitioner's answer on the emulator's e-CPS page over HTTP.
import { BrowserLikeClient, parseForms, type BrowserResponse } from './browser-like-client.js'
import type { Stack } from './stack.js'

export const CIBA_YAML = (extra = '') => `  serviceName: "DPI du CH de Test"
  ciba:
    enabled: true
    mode: both
${extra}`

/** Opens `path` (anonymous), lands on the login page, types `typed` in the e-CPS form and sends it. */
export async function startCiba(
  stack: Stack,
  typed: string,
  path = '/dossier/42?onglet=bio',
  client = new BrowserLikeClient(),
): Promise<{ login: BrowserResponse; res: BrowserResponse; browser: BrowserLikeClient }> {
  const login = await client.follow(stack.url + path)
  const form = parseForms(login.body, login.url).find((f) => f.method === 'POST' && f.action.endsWith('/_psc/ciba'))
  if (form === undefined)
    throw new Error(`no e-CPS form on ${login.url} (status ${login.status}): ${login.body.slice(0, 300)}`)
  const res = await client.postForm(form.action, { ...form.fields, loginHint: typed })
  return { login, res, browser: client }
}

/** Reloads the waiting page (as its meta refresh does) until it is no longer the waiting page. */
export async function waitForEnd(
  stack: Stack,
  browser: BrowserLikeClient,
  timeoutMs = 20_000,
): Promise<BrowserResponse> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await browser.get(`${stack.url}/_psc/ciba`)
    if (!(res.status === 200 && res.body.includes('id="binding-message"'))) return res
    if (Date.now() > deadline) throw new Error(`still waiting after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** The practitioner's answer on the emulator's e-CPS page (a second device: its own client). */
export async function answerOnPhone(
  stack: Stack,
  idNat: string,
  accept: boolean,
): Promise<{ bindingMessage: string; service: string }> {
  const phone = new BrowserLikeClient()
  const origin = stack.emulator!.origin
  const list = await phone.get(`${origin}/ecps?idNat=${encodeURIComponent(idNat)}`)
  const form = parseForms(list.body, list.url).find((f) => f.action.endsWith('/ecps/answer'))
  if (form === undefined)
    throw new Error(`no pending notification for ${idNat} on the e-CPS page: ${list.body.slice(0, 500)}`)
  const bindingMessage = /<p class="code">([^<]*)<\/p>/.exec(list.body)?.[1] ?? ''
  const service = /<strong class="service">([^<]*)<\/strong>/.exec(list.body)?.[1] ?? ''
  const done = await phone.postForm(form.action, { ...form.fields, answer: accept ? 'accept' : 'refuse' })
  if (done.status !== 200) throw new Error(`e-CPS answer: ${done.status} ${done.body.slice(0, 200)}`)
  return { bindingMessage, service }
}

export function bindingMessageOf(page: BrowserResponse): string | undefined {
  return /id="binding-message">([^<]*)</.exec(page.body)?.[1]
}
