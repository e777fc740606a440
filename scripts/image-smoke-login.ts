// scripts/image-smoke.sh's HTTP client: logs a test practitioner in through a running gateway
// (here: the container) and the PSC emulator, then checks what the upstream received.
//   node --import tsx scripts/image-smoke-login.ts <publicUrl> <idNat>
import { BrowserLikeClient } from '../test/helpers/browser-like-client.js'
import { loginThroughEmulator } from '../test/helpers/emulator-login.js'

const [publicUrl, idNat] = process.argv.slice(2)
if (!publicUrl || !idNat) {
  process.stderr.write('usage: image-smoke-login.ts <publicUrl> <idNat>\n')
  process.exit(2)
}

function check(ok: boolean, what: string): void {
  if (!ok) {
    process.stderr.write(`FAIL: ${what}\n`)
    process.exit(1)
  }
  process.stdout.write(`ok   ${what}\n`)
}

const pub = await fetch(`${publicUrl}/public/hello?format=json`)
check(pub.status === 200, `public route without a session: ${pub.status}`)

const anonymous = await fetch(`${publicUrl}/dossier`, { redirect: 'manual' })
check(anonymous.status === 302 && (anonymous.headers.get('location') ?? '').includes('/_psc/login'), `protected route without a session: ${anonymous.status} to the login`)

const client = new BrowserLikeClient()
const landed = await loginThroughEmulator(client, `${publicUrl}/dossier?format=json`, idNat)
check(landed.status === 200, `after the PSC login: ${landed.status} ${landed.url}`)
const seen = JSON.parse(landed.body) as { headers: Record<string, string> }
check(seen.headers['x-psc-idnat'] === idNat, `the upstream received X-PSC-IdNat ${seen.headers['x-psc-idnat']}`)
check(client.cookieValue(publicUrl, 'psc_session') !== undefined, 'a session cookie was set')

const again = await client.get(`${publicUrl}/dossier?format=json`)
check(again.status === 200, `the next request with the session cookie: ${again.status}`)
