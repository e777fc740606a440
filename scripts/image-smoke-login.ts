// scripts/image-smoke.sh's HTTP client: logs a test practitioner in through a running gateway
// (here: the container) and the PSC emulator, then checks what the upstream received.
//   node --import tsx scripts/image-smoke-login.ts <publicUrl> <idNat>
import { get } from 'node:http'
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

// A browser navigation (Sec-Fetch-Mode: navigate) is sent to the login; an API call gets 401.
// (fetch() always says Sec-Fetch-Mode: cors, so plain node:http here.)
function status(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    get(`${publicUrl}${path}`, { headers }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    }).on('error', reject)
  })
}
const navigation = await status('/dossier', { accept: 'text/html', 'sec-fetch-mode': 'navigate' })
check(navigation === 302, `protected route without a session, browser navigation: ${navigation} to the login`)
const api = await status('/dossier', { accept: 'application/json' })
check(api === 401, `protected route without a session, API call: ${api}`)

const client = new BrowserLikeClient()
const landed = await loginThroughEmulator(client, `${publicUrl}/dossier?format=json`, idNat)
check(landed.status === 200, `after the PSC login: ${landed.status} ${landed.url}`)
const seen = JSON.parse(landed.body) as { headers: Record<string, string> }
check(seen.headers['x-psc-idnat'] === idNat, `the upstream received X-PSC-IdNat ${seen.headers['x-psc-idnat']}`)
check(client.cookieValue(publicUrl, 'psc_session') !== undefined, 'a session cookie was set')

const again = await client.get(`${publicUrl}/dossier?format=json`)
check(again.status === 200, `the next request with the session cookie: ${again.status}`)
