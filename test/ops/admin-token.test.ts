// The admin token: checked at start-up (file, line and key), read again at each call so that a
// rotated Secret takes effect at once, refused without saying more than "refused".
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError } from '../../src/config/config-error.js'
import { loadConfigText } from '../../src/config/load.js'
import { checkAdminToken } from '../../src/ops/admin-token.js'

const dir = mkdtempSync(join(tmpdir(), 'psc-admin-token-'))
const TOKEN = 'a'.repeat(24) + 'B'.repeat(24)
const good = join(dir, 'token')
writeFileSync(good, `${TOKEN}\n`)
const short = join(dir, 'short')
writeFileSync(short, 'changeme\n')

const yaml = (admin: string) => `publicUrl: https://dpi.example.fr
admin: ${admin}
psc:
  environment: bas
  clientId: my-client
  clientSecret: client-secret-0123456789
session:
  secrets: ["${'s'.repeat(40)}"]
upstreams:
  dpi: { url: "http://dpi.internal:8080" }
routes:
  - { name: all, upstream: dpi, access: authenticated }
`

function problems(text: string): string {
  try {
    loadConfigText(text, 'gateway.yaml', {})
  } catch (err) {
    if (err instanceof ConfigError) return err.message
    throw err
  }
  return ''
}

t.test('admin.tokenFile is checked at start-up, naming the file, the line and the key', async (t) => {
  const missing = problems(yaml(`{ tokenFile: ${join(dir, 'absent')} }`))
  t.match(missing, /gateway\.yaml:2.*admin\.tokenFile/s)
  t.match(missing, /ENOENT/)
  const weak = problems(yaml(`{ tokenFile: ${short} }`))
  t.match(weak, /admin\.tokenFile.*at least 32 characters/s)
  t.notMatch(weak, /changeme/, 'the content is never echoed')
  t.equal(problems(yaml(`{ tokenFile: ${good}, tokenName: soc }`)), '')
  const { config } = loadConfigText(yaml(`{ tokenFile: ${good} }`), 'gateway.yaml', {})
  t.same([config.admin.tokenFile, config.admin.tokenName], [good, undefined])
})

t.test('the token is compared with what the file holds now', async (t) => {
  const file = join(dir, 'rotated')
  writeFileSync(file, TOKEN)
  const settings = { tokenFile: file, tokenName: 'soc' }
  t.same(checkAdminToken(settings, `Bearer ${TOKEN}`), { ok: true, name: 'soc' })
  t.same(checkAdminToken(settings, `bearer ${TOKEN}`), { ok: true, name: 'soc' }, 'the scheme in any case')
  t.match(checkAdminToken(settings, `Bearer ${TOKEN}x`), { ok: false, why: 'refused', reason: 'wrong token' })
  t.match(checkAdminToken(settings, TOKEN), { ok: false, why: 'refused', reason: 'not a bearer token' })
  t.match(checkAdminToken(settings, undefined), { ok: false, why: 'refused', reason: 'no token' })

  const next = 'n'.repeat(40)
  writeFileSync(file, next)
  t.match(checkAdminToken(settings, `Bearer ${TOKEN}`), { ok: false, why: 'refused' }, 'the old token no longer opens')
  t.same(checkAdminToken(settings, `Bearer ${next}`), { ok: true, name: 'soc' })

  writeFileSync(file, '')
  t.match(
    checkAdminToken(settings, `Bearer ${next}`),
    { ok: false, why: 'unreadable' },
    'an emptied file opens nothing',
  )
  t.match(checkAdminToken({ tokenName: 'soc' }, `Bearer ${next}`), { ok: false, why: 'off' })
})
