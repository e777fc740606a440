// With an https publicUrl (TLS ends at a load balancer in front of the gateway), cookies get the
// Secure flag and the __Host- prefix, and responses carry HSTS.
import t from 'tap'
import { parseForms, BrowserLikeClient } from '../helpers/browser-like-client.js'
import { startStack } from '../helpers/stack.js'

t.test('https public URL: __Host- Secure cookies and HSTS', async (t) => {
  const stack = await startStack({ https: true })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  const login = await client.get(`${stack.url}/_psc/login?rd=/dossier`)
  t.equal(login.status, 302)
  const txCookie = String(login.headers['set-cookie'])
  t.match(txCookie, /^__Host-psc_login=/, 'login transaction cookie has the __Host- prefix')
  t.match(txCookie, /; Secure/)
  t.match(txCookie, /; HttpOnly/)
  t.match(txCookie, /; Path=\//)
  t.notMatch(txCookie, /Domain=/i, 'no Domain (required by __Host-)')
  t.match(String(login.headers['strict-transport-security']), /max-age=\d+/)

  // Through the emulator until it sends the browser back to the https callback.
  const page = await client.follow(login.headers.location!)
  const form = parseForms(page.body, page.url).find((f) => f.method === 'POST')!
  let res = await client.postForm(form.action, { ...form.fields, practitioner: '899700218896' })
  let callback: URL | undefined
  for (let i = 0; i < 10 && !callback; i++) {
    const next = new URL(res.headers.location!, res.url)
    if (next.protocol === 'https:') callback = next
    else res = await client.get(next.href)
  }
  t.ok(callback, 'PSC redirects to the https callback')
  t.equal(callback!.origin, `https://127.0.0.1:${new URL(stack.url).port}`)
  // The load balancer terminates TLS and forwards over http.
  const done = await client.get(`${stack.url}${callback!.pathname}${callback!.search}`)
  t.equal(done.status, 302)
  t.equal(done.headers.location, '/dossier')
  const sessionCookie = (done.headers['set-cookie'] ?? []).find((c) => c.startsWith('__Host-psc_session='))
  t.ok(sessionCookie, 'session cookie named __Host-psc_session')
  t.match(sessionCookie, /; Secure/)
  t.match(sessionCookie, /; HttpOnly/)
  t.match(sessionCookie, /; SameSite=Lax/)
  t.match(sessionCookie, /; Path=\//)
  t.notMatch(sessionCookie!, /Domain=/i)
  const page2 = await client.get(`${stack.url}/dossier?format=json`)
  t.equal(page2.status, 200)
  t.equal((JSON.parse(page2.body) as { headers: Record<string, string> }).headers['x-psc-idnat'], '899700218896')
})
