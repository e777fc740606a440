// A tiny HTTP client that behaves like a browser doing top-level navigations: cookie jar per origin,
// navigation headers (Sec-Fetch-*), redirects, and auto-submit of "Submitting…" HTML forms (the
// ones oidc-provider renders for form_post and logout). Built on node:http on purpose: fetch sends
// Sec-Fetch-Mode: cors, which servers (oidc-provider included) treat differently from a navigation.
//
// Simplifications, on purpose: cookies are kept per origin (scheme://host:port) and the Domain
// attribute is ignored (every cookie is host-only); "site" is scheme + host (ports ignored, no
// public-suffix list); Secure cookies are sent over https and to loopback hosts, as browsers do.

import * as http from 'node:http'
import * as https from 'node:https'

export interface BrowserResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
  /** the URL that produced this response (after redirects, for follow) */
  url: string
}

export interface StoredCookie {
  name: string
  value: string
  path: string
  /** epoch ms; undefined = session cookie */
  expires?: number
  secure: boolean
  httpOnly: boolean
  sameSite: 'strict' | 'lax' | 'none'
}

export interface RequestOptions {
  headers?: Record<string, string>
}

export interface FollowInit extends RequestOptions {
  /** start with a POST of these fields (application/x-www-form-urlencoded) instead of a GET */
  form?: Record<string, string> | URLSearchParams
}

export interface ParsedForm {
  method: 'GET' | 'POST'
  /** absolute URL */
  action: string
  /** hidden and other <input> fields with a name */
  fields: Record<string, string>
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

function unescapeHtml(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_m, entity: string) => {
    const e = entity.toLowerCase()
    if (e === 'amp') return '&'
    if (e === 'lt') return '<'
    if (e === 'gt') return '>'
    if (e === 'quot') return '"'
    if (e === 'apos') return "'"
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16))
    return String.fromCodePoint(parseInt(e.slice(1), 10))
  })
}

function attributes(tag: string): Record<string, string> {
  const attrs: Record<string, string> = {}
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    const name = m[1]
    if (name === undefined) continue
    attrs[name.toLowerCase()] = unescapeHtml(m[2] ?? m[3] ?? m[4] ?? '')
  }
  return attrs
}

/** Every <form> of an HTML page, with its named <input> values (buttons are not included). */
export function parseForms(html: string, pageUrl: string): ParsedForm[] {
  const forms: ParsedForm[] = []
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(m[1] ?? '')
    const fields: Record<string, string> = {}
    for (const input of (m[2] ?? '').matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributes(input[1] ?? '')
      if (a.name !== undefined) fields[a.name] = a.value ?? ''
    }
    forms.push({
      method: (attrs.method ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET',
      action: new URL(attrs.action ?? '', pageUrl).href,
      fields,
    })
  }
  return forms
}

/** A page whose script submits its first form on load (oidc-provider's form_post / logout pages). */
function autoSubmitForm(res: BrowserResponse): ParsedForm | undefined {
  if (res.status !== 200 && res.status !== 400) return undefined
  if (!String(res.headers['content-type'] ?? '').includes('html')) return undefined
  const scripts = [...res.body.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)].map((m) => m[1] ?? '')
  if (!scripts.some((s) => /\.submit\(\)/.test(s))) return undefined
  return parseForms(res.body, res.url)[0]
}

function siteOf(url: URL): string {
  return `${url.protocol}//${url.hostname}`
}

export class BrowserLikeClient {
  readonly userAgent: string
  /** the page currently displayed: initiator of the next form post */
  currentUrl: string | undefined
  readonly #jars = new Map<string, StoredCookie[]>()
  readonly #httpAgent = new http.Agent({ keepAlive: false })
  readonly #httpsAgent: https.Agent

  /** `ca`: trust this CA (PEM) for https:// sites, e.g. a test PSC emulator's */
  constructor(opts: { userAgent?: string; ca?: string } = {}) {
    this.#httpsAgent = new https.Agent({ keepAlive: false, ...(opts.ca !== undefined && { ca: opts.ca }) })
    this.userAgent = opts.userAgent ?? 'Mozilla/5.0 (X11; Linux x86_64) psc-gateway-tests/1.0 (like Firefox/128.0)'
  }

  /** The live cookie list of an origin ("http://127.0.0.1:1234" or any URL of it): tests may edit it. */
  cookies(origin: string): StoredCookie[] {
    const key = new URL(origin).origin
    let jar = this.#jars.get(key)
    if (jar === undefined) {
      jar = []
      this.#jars.set(key, jar)
    }
    this.#purge(jar)
    return jar
  }

  /** Value of a cookie as it would be sent to `url` (path-matched), or undefined. */
  cookieValue(url: string, name: string): string | undefined {
    return this.#cookiesFor(new URL(url), 'GET', 'same-origin').find((c) => c.name === name)?.value
  }

  setCookie(origin: string, cookie: Partial<StoredCookie> & { name: string; value: string }): void {
    const jar = this.cookies(origin)
    const full: StoredCookie = { path: '/', secure: false, httpOnly: false, sameSite: 'lax', ...cookie }
    const i = jar.findIndex((c) => c.name === full.name && c.path === full.path)
    if (i >= 0) jar.splice(i, 1, full)
    else jar.push(full)
  }

  clearCookies(origin?: string): void {
    if (origin === undefined) this.#jars.clear()
    else this.#jars.delete(new URL(origin).origin)
  }

  /** A navigation typed in the address bar (Sec-Fetch-Site: none). */
  get(url: string, opts: RequestOptions = {}): Promise<BrowserResponse> {
    return this.#request('GET', new URL(url), undefined, opts.headers, undefined)
  }

  /** Submits a form from the current page (Sec-Fetch-Site relative to currentUrl). */
  postForm(
    url: string,
    fields: Record<string, string> | URLSearchParams,
    opts: RequestOptions = {},
  ): Promise<BrowserResponse> {
    const body = new URLSearchParams(fields).toString()
    return this.#request('POST', new URL(url, this.currentUrl), body, opts.headers, this.currentUrl)
  }

  /**
   * Navigates to `url` (GET, or POST of init.form) and follows 30x redirects (relative Location
   * allowed) and auto-submitting HTML forms, at most `maxRedirects` hops in all.
   */
  async follow(url: string, maxRedirects = 20, init: FollowInit = {}): Promise<BrowserResponse> {
    let res =
      init.form !== undefined
        ? await this.postForm(url, init.form, init)
        : await this.get(new URL(url, this.currentUrl).href, init)
    for (let hops = 0; ; hops++) {
      const location = res.headers.location
      const isRedirect = res.status >= 300 && res.status < 400 && location !== undefined
      const form = isRedirect ? undefined : autoSubmitForm(res)
      if (!isRedirect && form === undefined) return res
      if (hops >= maxRedirects) {
        throw new Error(
          `BrowserLikeClient.follow: more than ${maxRedirects} redirects, last at ${res.url} (status ${res.status})`,
        )
      }
      if (form !== undefined) {
        const body = form.method === 'POST' ? new URLSearchParams(form.fields).toString() : undefined
        const target = new URL(form.action)
        if (form.method === 'GET') for (const [k, v] of Object.entries(form.fields)) target.searchParams.set(k, v)
        res = await this.#request(form.method, target, body, undefined, res.url)
        continue
      }
      const target = new URL(location as string, res.url)
      // 307/308 keep the method and body; this client only re-posts what it posted itself
      res = await this.#request('GET', target, undefined, undefined, res.url)
    }
  }

  #purge(jar: StoredCookie[]): void {
    const now = Date.now()
    for (let i = jar.length - 1; i >= 0; i--) {
      const expires = jar[i]?.expires
      if (expires !== undefined && expires <= now) jar.splice(i, 1)
    }
  }

  #secureAllowed(url: URL): boolean {
    return url.protocol === 'https:' || LOOPBACK.has(url.hostname)
  }

  #cookiesFor(url: URL, method: string, site: string): StoredCookie[] {
    const jar = this.#jars.get(url.origin)
    if (jar === undefined) return []
    this.#purge(jar)
    const path = url.pathname || '/'
    return (
      jar
        .filter(
          (c) => path === c.path || (path.startsWith(c.path) && (c.path.endsWith('/') || path[c.path.length] === '/')),
        )
        .filter((c) => !c.secure || this.#secureAllowed(url))
        .filter((c) => {
          if (site !== 'cross-site') return true
          if (c.sameSite === 'strict') return false
          if (c.sameSite === 'lax') return method === 'GET'
          return true
        })
        // longer paths first, as browsers do
        .sort((a, b) => b.path.length - a.path.length)
    )
  }

  #storeCookies(url: URL, setCookie: string[] | undefined): void {
    if (setCookie === undefined) return
    const jar = this.cookies(url.origin)
    for (const header of setCookie) {
      const [pair = '', ...attrParts] = header.split(';')
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const defaultPath = url.pathname.lastIndexOf('/') > 0 ? url.pathname.slice(0, url.pathname.lastIndexOf('/')) : '/'
      const cookie: StoredCookie = { name, value, path: defaultPath, secure: false, httpOnly: false, sameSite: 'lax' }
      let maxAge: number | undefined
      for (const part of attrParts) {
        const i = part.indexOf('=')
        const key = (i < 0 ? part : part.slice(0, i)).trim().toLowerCase()
        const val = i < 0 ? '' : part.slice(i + 1).trim()
        if (key === 'path' && val.startsWith('/')) cookie.path = val
        else if (key === 'max-age' && /^-?\d+$/.test(val)) maxAge = Number(val)
        else if (key === 'expires') {
          const t = Date.parse(val)
          if (!Number.isNaN(t)) cookie.expires = t
        } else if (key === 'secure') cookie.secure = true
        else if (key === 'httponly') cookie.httpOnly = true
        else if (key === 'samesite') {
          const v = val.toLowerCase()
          cookie.sameSite = v === 'strict' ? 'strict' : v === 'none' ? 'none' : 'lax'
        }
      }
      if (maxAge !== undefined) cookie.expires = maxAge <= 0 ? 0 : Date.now() + maxAge * 1000
      if (cookie.secure && !this.#secureAllowed(url)) continue
      const i = jar.findIndex((c) => c.name === name && c.path === cookie.path)
      if (i >= 0) jar.splice(i, 1)
      if (cookie.expires === undefined || cookie.expires > Date.now()) jar.push(cookie)
    }
  }

  #request(
    method: 'GET' | 'POST',
    url: URL,
    body: string | undefined,
    extraHeaders: Record<string, string> | undefined,
    initiator: string | undefined,
  ): Promise<BrowserResponse> {
    const from = initiator === undefined ? undefined : new URL(initiator)
    const site =
      from === undefined
        ? 'none'
        : from.origin === url.origin
          ? 'same-origin'
          : siteOf(from) === siteOf(url)
            ? 'same-site'
            : 'cross-site'
    const headers: Record<string, string> = {
      Host: url.host,
      'User-Agent': this.userAgent,
      Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      'Accept-Language': 'fr-FR,fr;q=0.9,en;q=0.5',
      'Sec-Fetch-Mode': 'navigate',
      'Sec-Fetch-Dest': 'document',
      'Sec-Fetch-Site': site,
      'Sec-Fetch-User': '?1',
    }
    if (from !== undefined) headers.Referer = from.origin === url.origin ? from.href : `${from.origin}/`
    if (method === 'POST') {
      headers.Origin = from === undefined ? 'null' : from.origin
      headers['Content-Type'] = 'application/x-www-form-urlencoded'
      headers['Content-Length'] = String(Buffer.byteLength(body ?? ''))
    }
    const cookies = this.#cookiesFor(url, method, site)
    if (cookies.length > 0) headers.Cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ')
    Object.assign(headers, extraHeaders)

    const transport = url.protocol === 'https:' ? https : http
    return new Promise<BrowserResponse>((resolve, reject) => {
      const req = transport.request(
        url,
        { method, headers, agent: url.protocol === 'https:' ? this.#httpsAgent : this.#httpAgent },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('error', reject)
          res.on('end', () => {
            this.#storeCookies(url, res.headers['set-cookie'])
            this.currentUrl = url.href
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
              url: url.href,
            })
          })
        },
      )
      req.on('error', (err) =>
        reject(new Error(`BrowserLikeClient: ${method} ${url.href} failed: ${err.message}`, { cause: err })),
      )
      req.setTimeout(15_000, () => req.destroy(new Error('timeout after 15 s')))
      req.end(body)
    })
  }
}
