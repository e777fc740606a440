import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { BrowserLikeClient, parseForms } from './browser-like-client.js'

const seen: IncomingMessage[] = []
const bodies: string[] = []
const server = createServer((req, res) => {
  seen.push(req)
  let body = ''
  req.on('data', (c: Buffer) => (body += c.toString()))
  req.on('end', () => {
    bodies.push(body)
    const url = new URL(req.url ?? '/', 'http://x')
    switch (url.pathname) {
      case '/set':
        res.setHeader('Set-Cookie', [
          'a=1; Path=/',
          'b=2; Path=/app',
          'c=3; Max-Age=3600; HttpOnly; SameSite=Lax',
          'old=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
        ])
        return res.end('ok')
      case '/del':
        res.setHeader('Set-Cookie', ['a=; Max-Age=0; Path=/'])
        return res.end('ok')
      case '/r1':
        res.statusCode = 302
        res.setHeader('Location', 'r2?x=1')
        return res.end()
      case '/r2':
        res.statusCode = 303
        res.setHeader('Location', '/auto')
        return res.end()
      case '/auto':
        res.setHeader('Content-Type', 'text/html')
        return res.end(`<html><head><script>document.addEventListener('DOMContentLoaded', function () { document.forms[0].submit() })</script></head>
<body><form method="post" action="/done?a=1&amp;b=2"><input type="hidden" name="k" value="v &amp; &quot;w&quot;"/></form></body></html>`)
      case '/loop':
        res.statusCode = 302
        res.setHeader('Location', '/loop')
        return res.end()
      default:
        res.setHeader('Content-Type', 'text/html')
        return res.end(`<p>${url.pathname}</p>`)
    }
  })
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))

t.test('cookie jar: path, expiry, deletion, tampering', async (t) => {
  const c = new BrowserLikeClient()
  await c.get(`${origin}/set`)
  t.same(
    c
      .cookies(origin)
      .map((k) => k.name)
      .sort(),
    ['a', 'b', 'c'],
  )
  await c.get(`${origin}/app/page`)
  t.equal(seen.at(-1)?.headers.cookie, 'b=2; a=1; c=3')
  await c.get(`${origin}/application`)
  t.equal(seen.at(-1)?.headers.cookie, 'a=1; c=3', 'path /app does not match /application')
  await c.get(`${origin}/del`)
  t.same(
    c
      .cookies(origin)
      .map((k) => k.name)
      .sort(),
    ['b', 'c'],
    'Max-Age=0 deletes',
  )
  const jar = c.cookies(origin)
  const cookie = jar.find((k) => k.name === 'c')
  if (cookie) cookie.value = 'tampered'
  c.setCookie(origin, { name: 'z', value: '9' })
  await c.get(`${origin}/`)
  t.equal(seen.at(-1)?.headers.cookie, 'c=tampered; z=9')
  t.equal(c.cookieValue(`${origin}/app/x`, 'b'), '2')
  c.clearCookies(origin)
  t.same(c.cookies(origin), [])
})

t.test('navigation headers', async (t) => {
  const c = new BrowserLikeClient()
  await c.get(`${origin}/x`)
  const h = seen.at(-1)?.headers ?? {}
  t.equal(h['sec-fetch-mode'], 'navigate')
  t.equal(h['sec-fetch-dest'], 'document')
  t.equal(h['sec-fetch-site'], 'none')
  t.match(h.accept, /^text\/html/)
  t.match(h['user-agent'], /Mozilla/)
  await c.postForm('/form', { a: 'é' })
  const p = seen.at(-1)?.headers ?? {}
  t.equal(p['sec-fetch-site'], 'same-origin')
  t.equal(p.origin, origin)
  t.equal(p['content-type'], 'application/x-www-form-urlencoded')
  t.equal(bodies.at(-1), 'a=%C3%A9')
  await c.get(`${origin}/y`, { headers: { Accept: 'application/json' } })
  t.equal(seen.at(-1)?.headers.accept, 'application/json')
})

t.test('follow: relative redirects, 303, auto-submitted forms, loop limit', async (t) => {
  const c = new BrowserLikeClient()
  const res = await c.follow(`${origin}/r1`)
  t.equal(res.url, `${origin}/done?a=1&b=2`)
  t.equal(seen.at(-1)?.method, 'POST')
  t.equal(bodies.at(-1), new URLSearchParams({ k: 'v & "w"' }).toString())
  t.equal(seen.at(-2)?.url, '/auto')
  t.equal(seen.at(-3)?.url, '/r2?x=1')
  await t.rejects(c.follow(`${origin}/loop`, 3), /more than 3 redirects/)
})

t.test('parseForms', async (t) => {
  const forms = parseForms(
    `<form method="post" action="/x/login"><button name="practitioner" value="a">A</button><input name="n" value='1'></form><form action="?q=1"></form>`,
    `${origin}/page`,
  )
  t.same(forms, [
    { method: 'POST', action: `${origin}/x/login`, fields: { n: '1' } },
    { method: 'GET', action: `${origin}/page?q=1`, fields: {} },
  ])
})
