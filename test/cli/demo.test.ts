// `npm start` (tsx dev/cli.ts demo), the README's first command, as a newcomer runs it: one process
// starts the PSC emulator, the demo application and the gateway; a practitioner who opens the
// gateway under another name than its public URL (http://127.0.0.1:PORT/ instead of
// http://localhost:PORT/) is sent to the public host, logs in through the emulator and
// lands on the application, logged in, with the local account the demo maps.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { until } from '../helpers/gateway-process.js'
import { freePort } from '../helpers/stack.js'

const ROOT = join(import.meta.dirname, '..', '..')
const MEDECIN = '899700218896'

t.test('npm start: a login started on 127.0.0.1 ends on the application, logged in', async (t) => {
  const [gateway, emulator, demoApp, admin] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const env = {
    ...process.env,
    GATEWAY_PORT: String(gateway),
    EMULATOR_PORT: String(emulator),
    DEMO_APP_PORT: String(demoApp),
    ADMIN_PORT: String(admin),
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'dev/cli.ts', 'demo'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  await until('the demo to be ready', async () => output.includes('psc-gateway demo ready'), 90_000).catch(
    (err: Error) => {
      throw new Error(`${err.message}; it printed: ${output.slice(0, 2000)}`)
    },
  )
  const publicUrl = `http://localhost:${gateway}`
  t.match(output, `Open        ${publicUrl}/`, 'the banner says where to go')
  // what docs/getting-started.md shows is what a newcomer sees (ports and the start-up time aside)
  const page = readFileSync(join(ROOT, 'docs', 'getting-started.md'), 'utf8')
  const shown = /prints, after a few seconds:\n\n```\n([\s\S]*?)```/.exec(page)?.[1] ?? ''
  const banner = /( {2}psc-gateway demo ready[\s\S]*?Ctrl-C to stop\.\n)/.exec(output)?.[1] ?? ''
  const comparable = (text: string): string[] =>
    text.split('\n').map((l) =>
      l
        .replace(/ready in \d+ ms/, 'ready in N ms')
        .replace(/:\d{2,5}\b/g, ':PORT')
        .replace(/\s+/g, ' ')
        .trim(),
    )
  t.same(comparable(banner), comparable(shown), 'the banner is the one docs/getting-started.md shows')
  const ms = Number(/ready in (\d+) ms/.exec(shown)?.[1])
  t.ok(ms >= 1000 && ms <= 10_000, `the page's start-up time (${ms} ms) is of the order this machine sees`)

  const client = new BrowserLikeClient()
  const first = await client.get(`http://127.0.0.1:${gateway}/dossier/7`)
  t.equal(first.status, 302)
  t.equal(first.headers.location, `${publicUrl}/dossier/7`, 'sent to the public host before any login starts')
  // The demo offers both ways of logging in (CIBA mode both): the choice page links to PSC.
  const choice = await client.follow(`http://127.0.0.1:${gateway}/dossier/7`)
  t.equal(choice.status, 200)
  t.equal(new URL(choice.url).origin, publicUrl, 'the login page is on the public host')
  const pscHref = /<a class="button" href="([^"]+)">/.exec(choice.body)?.[1]?.replaceAll('&amp;', '&')
  t.ok(pscHref, 'a link to log in with Pro Santé Connect')
  const landed = await loginThroughEmulator(client, new URL(pscHref!, choice.url).href, MEDECIN)
  t.equal(landed.status, 200, 'on the application')
  t.equal(landed.url, `${publicUrl}/dossier/7`, 'the page first asked for')
  t.match(landed.body, MEDECIN, "the application received the practitioner's idNat")
  t.match(landed.body, 'edubois', 'and the local account config/accounts.csv maps to her RPPS')

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'Ctrl-C (SIGTERM) stops everything cleanly')
})
