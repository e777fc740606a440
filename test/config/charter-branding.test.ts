// The charter and branding sections: a missing or unusable file is refused at start-up (and by
// `check`) with the file, the line and the key; the settings the gateway reads are placed relative
// to the configuration file.
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { loadConfigText } from '../../src/config/load.js'
import { ConfigError } from '../../src/config/config-error.js'
import { TYPESCRIPT_NODE_ARGS } from '../helpers/typescript-node.js'
import { BASE, ENV } from './fixture.js'

const ROOT = join(import.meta.dirname, '..', '..')
const PNG_1PX = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
)

function issues(text: string, file: string): string[] {
  try {
    loadConfigText(text, file, ENV)
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.line ?? '-'}:${i.path}: ${i.message}`)
    throw err
  }
  return []
}

t.test('a charter file relative to the configuration file: placed there, exempt entries split', async (t) => {
  const dir = t.testdir({ 'charte.txt': 'Article 1\n' })
  const { config } = loadConfigText(
    `${BASE}charter:\n  version: "2026-01"\n  file: charte.txt\n  exempt: [/health/, API.hopital.fr]\n`,
    join(dir, 'gateway.yaml'),
    ENV,
  )
  t.same(config.charter, {
    version: '2026-01',
    file: join(dir, 'charte.txt'),
    exemptPaths: ['/health'],
    exemptHosts: ['api.hopital.fr'],
    rememberMs: 365 * 86_400_000,
  })
})

t.test('a missing charter file: refused with its line and key', async (t) => {
  const dir = t.testdir({})
  const found = issues(`${BASE}charter:\n  version: v1\n  file: absent.txt\n`, join(dir, 'gateway.yaml'))
  t.same(found, [`24:charter.file: the charter text: ${join(dir, 'absent.txt')} does not exist`])
})

t.test('charter: neither file nor url, both, a bad version, a bad exempt entry, an empty or binary text', async (t) => {
  const dir = t.testdir({ 'empty.txt': '\n \n', 'binary.txt': Buffer.from([0xff, 0xfe, 0x00, 0x41]), 'ok.txt': 'x' })
  const file = join(dir, 'gateway.yaml')
  t.match(issues(`${BASE}charter:\n  version: v1\n`, file), [/charter: charter needs exactly one of file/])
  t.match(issues(`${BASE}charter:\n  version: v1\n  file: ok.txt\n  url: https://intranet/charte\n`, file), [
    /charter: charter needs exactly one of file/,
  ])
  t.match(issues(`${BASE}charter:\n  version: "v 1"\n  url: https://intranet/charte\n`, file), [/charter\.version/])
  t.match(issues(`${BASE}charter:\n  version: v1\n  url: http://intranet/charte\n`, file), [/charter\.url/])
  t.match(issues(`${BASE}charter:\n  version: v1\n  url: https://i/c\n  exempt: ["/a/../b", "a host"]\n`, file), [
    /^25:charter\.exempt\[0\]: expected a path/,
    /^25:charter\.exempt\[1\]: expected a path starting with "\/" or a host name/,
  ])
  t.match(issues(`${BASE}charter:\n  version: v1\n  file: empty.txt\n`, file), [
    /charter\.file: the charter text is empty/,
  ])
  t.match(issues(`${BASE}charter:\n  version: v1\n  file: binary.txt\n`, file), [
    /charter\.file: the charter text is not UTF-8 text/,
  ])
})

t.test('branding: images recognised by their bytes, size-limited, placed relative to the file', async (t) => {
  const dir = t.testdir({
    'logo.png': PNG_1PX,
    'bouton.svg': '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
    'fake.png': '<html>not an image</html>',
    'huge.png': Buffer.concat([PNG_1PX, Buffer.alloc(300 * 1024)]),
  })
  const file = join(dir, 'gateway.yaml')
  const { config } = loadConfigText(
    `${BASE}branding:\n  service: DPI\n  establishment: CHU de Nantes\n  logo: logo.png\n  pscButton: bouton.svg\n`,
    file,
    ENV,
  )
  t.same(config.branding, {
    service: 'DPI',
    establishment: 'CHU de Nantes',
    logo: { file: join(dir, 'logo.png'), contentType: 'image/png' },
    pscButton: { file: join(dir, 'bouton.svg'), contentType: 'image/svg+xml' },
  })
  t.same(loadConfigText(BASE, file, ENV).config.branding, {}, 'no branding: an empty section')
  t.same(issues(`${BASE}branding:\n  logo: fake.png\n`, file), [
    '23:branding.logo: fake.png is not a PNG, JPEG, WebP or SVG image',
  ])
  t.match(issues(`${BASE}branding:\n  pscButton: huge.png\n`, file), [
    /^23:branding\.pscButton: .*at most 204800 are accepted/,
  ])
  t.match(issues(`${BASE}branding:\n  logo: nowhere.png\n`, file), [
    /^23:branding\.logo: .*nowhere\.png does not exist/,
  ])
})

t.test('check refuses a missing charter file with the file, the line and the key, and exits 1', async (t) => {
  const dir = t.testdir({})
  const file = join(dir, 'gateway.yaml')
  writeFileSync(file, `${BASE}charter:\n  version: v1\n  file: charte-absente.txt\n`)
  const out = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [...TYPESCRIPT_NODE_ARGS, join(ROOT, 'src', 'cli.ts'), 'check', '--config', file],
      { encoding: 'utf8', env: { ...process.env, ...ENV } },
      (err, _stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }),
    )
  })
  t.equal(out.code, 1)
  t.match(out.stderr, /gateway\.yaml:24:\d+: charter\.file: the charter text: .*charte-absente\.txt does not exist/)
})
