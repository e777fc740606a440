// ANS's onboarding rules (pure) and the raccordement sheet built from a configuration.
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import t from 'tap'
import { loadConfigText } from '../../src/config/load.js'
import { buildOnboardingSheet, formatOnboardingSheet, type OnboardingSheet } from '../../src/ops/raccordement.js'
import { ansUrlProblems, matchRegistered, serviceNameProblems } from '../../src/psc/onboarding.js'
import { TYPESCRIPT_NODE_ARGS } from '../helpers/typescript-node.js'

const ROOT = join(import.meta.dirname, '..', '..')

t.test('ANS URL rules: https, no IP address, "*" only at the end', async (t) => {
  t.same(ansUrlProblems('https://dpi.ch-arles.fr/_psc/callback'), [])
  t.same(ansUrlProblems('https://dpi.ch-arles.fr/_psc/*'), [], 'a trailing wildcard is allowed')
  t.same(
    ansUrlProblems('http://dpi.ch-arles.fr/_psc/callback').map((p) => p.rule),
    ['https'],
  )
  t.same(
    ansUrlProblems('https://10.2.3.4/_psc/callback').map((p) => p.rule),
    ['ip-address'],
  )
  t.same(
    ansUrlProblems('https://[::1]/_psc/callback').map((p) => p.rule),
    ['ip-address'],
  )
  t.same(
    ansUrlProblems('https://*.ch-arles.fr/_psc/callback').map((p) => p.rule),
    ['wildcard-not-at-end'],
  )
  t.same(
    ansUrlProblems('https://dpi.ch-arles.fr/*/callback').map((p) => p.rule),
    ['wildcard-not-at-end'],
  )
  t.same(
    ansUrlProblems('not a url').map((p) => p.rule),
    ['not-a-url'],
  )
})

t.test('matching the registered strings: exact, end wildcard, case named', async (t) => {
  const sent = 'https://dpi.ch-arles.fr/_psc/callback'
  t.match(matchRegistered(sent, [sent]), { ok: true, registered: sent })
  t.match(matchRegistered(sent, ['https://dpi.ch-arles.fr/_psc/*']), { ok: true })
  t.match(matchRegistered(sent, ['https://dpi.ch-arles.fr/*']), { ok: true })
  t.match(matchRegistered(sent, ['https://dpi.ch-arles.fr/_psc/callback/']), { ok: false, reason: 'no-match' })
  t.match(matchRegistered(sent, ['https://dpi.ch-arles.fr/_PSC/callback']), {
    ok: false,
    reason: 'case',
    near: 'https://dpi.ch-arles.fr/_PSC/callback',
  })
  t.match(matchRegistered(sent, ['https://DPI.ch-arles.fr/*']), { ok: false, reason: 'case' })
  t.match(matchRegistered(sent, []), { ok: false, reason: 'none-registered' })
  t.match(matchRegistered('https://dpi.ch-arles.fr/_psc/callback', ['https://dpi.ch-arles.fr/_psc/callbacks']), {
    ok: false,
    reason: 'no-match',
  })
})

t.test('dénomination: length and clarity', async (t) => {
  t.same(serviceNameProblems('Dossier patient – CH d’Arles'), [])
  t.same(
    serviceNameProblems('Dpi').map((p) => p.rule),
    ['too-short'],
  )
  t.same(
    serviceNameProblems('x'.repeat(51)).map((p) => p.rule),
    ['too-long'],
  )
  t.same(
    serviceNameProblems('DPI')
      .map((p) => p.rule)
      .sort(),
    ['acronym', 'too-short'],
  )
  t.same(
    serviceNameProblems('HOPSIS').map((p) => p.rule),
    ['acronym'],
  )
  t.same(
    serviceNameProblems('psc_gateway_01').map((p) => p.rule),
    ['technical'],
  )
  t.same(
    serviceNameProblems('dpi-prod', { clientId: 'dpi-prod' }).map((p) => p.rule),
    ['technical'],
  )
  t.same(
    serviceNameProblems('dpi.ch-arles.fr').map((p) => p.rule),
    ['url'],
  )
  t.same(
    serviceNameProblems('Dossier patient test', { production: true }).map((p) => p.rule),
    ['test-word'],
  )
  t.same(serviceNameProblems('Dossier patient test', { production: false }), [], 'test words are fine on the BAS')
})

function config(publicUrl: string, psc: string, routes?: string, environment = 'production') {
  return loadConfigText(
    `
publicUrl: ${publicUrl}
psc:
  environment: ${environment}
  allowUnknownProfessions: true
  clientId: dpi-ch-arles
  clientSecret: \${S}
${psc}
session: { secrets: ["${'s'.repeat(40)}"] }
upstreams: { app: { url: "http://127.0.0.1:9" } }
routes:
${
  routes ??
  `  - { name: pharmacie, match: { pathPrefix: /pharmacie }, upstream: app, access: { professions: ["21", "93"] } }
  - { name: medecins, match: { pathPrefix: /medecins }, upstream: app, access: { professions: ["10"] } }
  - { name: public, match: { pathPrefix: /aide }, upstream: app, access: public }`
}
`,
    'raccordement.yaml',
    { S: 'secret-secret' },
  ).config
}

const rules = (s: OnboardingSheet) => s.problems.map((p) => `${p.field}:${p.rule}`).sort()

t.test('the sheet for a sound production configuration', async (t) => {
  const sheet = buildOnboardingSheet(
    config(
      'https://dpi.ch-arles.fr',
      `  serviceName: "Dossier patient – CH d'Arles"\n  expectedUsers: 350\n  registered:\n    redirectUris: ["https://dpi.ch-arles.fr/_psc/callback"]\n    postLogoutRedirectUris: ["https://dpi.ch-arles.fr/_psc/*"]`,
      '  - { name: medecins, match: { pathPrefix: /medecins }, upstream: app, access: { professions: ["10", "60"] } }',
    ),
  )
  t.same(rules(sheet), [])
  t.equal(sheet.environment.label, 'Production')
  t.equal(sheet.requestType, 'Fournisseur de service')
  t.same(sheet.redirectUris, ['https://dpi.ch-arles.fr/_psc/callback'])
  t.same(sheet.logoutUris, ['https://dpi.ch-arles.fr/_psc/logged-out'])
  t.same(sheet.professions, {
    all: false,
    list: [
      { code: '10', label: 'Médecin' },
      { code: '60', label: 'Infirmier' },
    ],
  })
  t.same(sheet.authenticationMeans, ['PSC uniquement'])
  t.equal(sheet.expectedUsers, 350)
  t.same(sheet.ciba, { used: false, only: false }, 'no psc.ciba in this configuration: CIBA no')
  const md = formatOnboardingSheet(sheet)
  t.match(md, "| Dénomination du service | Dossier patient – CH d'Arles |")
  t.match(md, '| Professions des utilisateurs | Médecin (10), Infirmier (60) |')
  t.match(md, "| Autres moyens d'authentification | PSC uniquement |")
  t.match(md, '| CIBA | Non |')
  t.match(md, 'Aucun problème')
})

t.test(
  'every rule broken is named: no https, IP address, unknown profession code, users and name missing',
  async (t) => {
    // on the BAS: the loader itself refuses an http:// publicUrl in production
    const sheet = buildOnboardingSheet(config('http://10.1.2.3', '', undefined, 'bas'))
    t.same(rules(sheet), [
      'denomination:missing',
      'logoutUris:https',
      'logoutUris:ip-address',
      'professions:unknown-code',
      'redirectUris:https',
      'redirectUris:ip-address',
      'users:missing',
    ])
    t.same(
      sheet.professions.list.map((p) => p.label),
      ['Médecin', 'Pharmacien', 'code 93 (absent de TRE_G15 : TRE_R95 ?)'],
    )
    t.equal(
      buildOnboardingSheet(config('http://10.1.2.3', '', undefined, 'bas'), { users: 12 }).expectedUsers,
      12,
      '--users',
    )
    const md = formatOnboardingSheet(sheet)
    t.match(md, "## À corriger avant l'envoi (7)")
    t.match(
      md,
      /redirectUris\*\* \(ip-address\) : http:\/\/10\.1\.2\.3\/_psc\/callback : l'ANS refuse une adresse IP \(10\.1\.2\.3\) : utilisez le nom DNS/,
      'in French',
    )
    t.match(md, /\*\*users\*\* \(missing\) : le nombre d'utilisateurs n'est pas renseigné/)
    t.match(md, /\*\*professions\*\* \(unknown-code\) : le code profession 93 n'est pas dans TRE_G15/)
    t.notMatch(md, /\b(is not|refuses|requires|check it)\b/, 'no English sentence in the French sheet')
    const english = formatOnboardingSheet(
      buildOnboardingSheet(config('http://10.1.2.3', '', undefined, 'bas'), { lang: 'en' }),
    )
    t.match(english, /callback: ANS refuses an IP address/, 'lang en: the problems in English')
  },
)

t.test('an "authenticated" route means every profession; other means and CIBA from the configuration', async (t) => {
  const c = config(
    'https://dpi.ch-arles.fr',
    '  otherAuthenticationMeans: ["carte CPS sur poste"]\n  expectedUsers: 5\n  serviceName: Dossier patient CH Arles',
    '  - { name: tout, upstream: app, access: authenticated }',
  )
  let sheet = buildOnboardingSheet(c)
  t.equal(sheet.professions.all, true)
  t.same(sheet.authenticationMeans, ['Pro Santé Connect', 'carte CPS sur poste'])
  t.match(formatOnboardingSheet(sheet), 'Toutes les professions de santé')
  ;(c.psc as { ciba?: unknown }).ciba = { enabled: true }
  sheet = buildOnboardingSheet(c)
  t.same(sheet.ciba, { used: true, only: false })
  t.match(formatOnboardingSheet(sheet), '| CIBA | Oui (en plus de la connexion par navigateur) |')
  ;(c.psc as { ciba?: unknown }).ciba = { enabled: true, mode: 'ciba', hosts: {}, routes: {} }
  t.same(buildOnboardingSheet(c).ciba, { used: true, only: true }, 'mode ciba everywhere: CIBA only')
  const only = formatOnboardingSheet(buildOnboardingSheet(c))
  t.match(only, '| Service CIBA uniquement | Oui |')
  t.match(only, '| CIBA | Oui (seul moyen de connexion : pas de connexion par navigateur) |')
  t.notMatch(only, 'en plus de la connexion par navigateur', 'no contradiction with "CIBA only"')
  ;(c.psc as { ciba?: unknown }).ciba = { enabled: true, mode: 'ciba', hosts: {}, routes: { tout: 'both' } }
  t.same(buildOnboardingSheet(c).ciba.only, false, 'a route also offers the browser login')
  ;(c.psc as { ciba?: unknown }).ciba = { enabled: false }
  t.same(buildOnboardingSheet(c).ciba.used, false)
})

t.test(
  'production CIBA with a client secret is flagged: ANS registers production CIBA clients with tls_client_auth',
  async (t) => {
    const c = config(
      'https://dpi.ch-arles.fr',
      '  expectedUsers: 5\n  serviceName: Dossier patient CH Arles\n  ciba: { enabled: true, mode: both }',
      '  - { name: tout, upstream: app, access: authenticated }',
    )
    const sheet = buildOnboardingSheet(c)
    t.same(rules(sheet), ['clientAuthentication:ciba-needs-tls-client-auth'])
    t.match(
      formatOnboardingSheet(sheet),
      /\*\*clientAuthentication\*\* \(ciba-needs-tls-client-auth\) : en production, un client CIBA s'authentifie par certificat \(tls_client_auth/,
    )
    const bas = config(
      'https://dpi.ch-arles.fr',
      '  expectedUsers: 5\n  serviceName: Dossier patient CH Arles\n  ciba: { enabled: true, mode: both }',
      '  - { name: tout, upstream: app, access: authenticated }',
      'bas',
    )
    t.same(rules(buildOnboardingSheet(bas)), [], 'a client secret is fine for CIBA on the BAS')
  },
)

t.test(
  'registered URLs: a case difference or a wildcard in the middle stops the configuration with the key',
  async (t) => {
    t.throws(
      () =>
        config('https://dpi.ch-arles.fr', '  registered:\n    redirectUris: ["https://dpi.ch-arles.fr/_PSC/callback"]'),
      /raccordement\.yaml:9:\d+: psc\.registered\.redirectUris: the gateway sends https:\/\/dpi\.ch-arles\.fr\/_psc\/callback, which PSC would refuse .*differs from the registered "https:\/\/dpi\.ch-arles\.fr\/_PSC\/callback" only by upper\/lower case/,
    )
    t.throws(
      () =>
        config(
          'https://dpi.ch-arles.fr',
          '  registered:\n    postLogoutRedirectUris: ["https://*.ch-arles.fr/_psc/logged-out"]',
        ),
      /psc\.registered\.postLogoutRedirectUris\[0\]: "\*" is allowed only as the last character/,
    )
    t.doesNotThrow(() =>
      config('https://dpi.ch-arles.fr', '  registered:\n    redirectUris: ["https://dpi.ch-arles.fr/*"]'),
    )
  },
)

t.test('the command: Markdown by default, --json, exit 1 when a rule is broken', async (t) => {
  const dir = t.testdir({})
  const file = join(dir, 'gw.yaml')
  writeFileSync(
    file,
    `
publicUrl: https://dpi.ch-arles.fr
psc: { environment: bas, clientId: dpi, clientSecret: "\${S}", serviceName: "Dossier patient CH Arles" }
session: { secrets: ["${'s'.repeat(40)}"] }
upstreams: { app: { url: "http://127.0.0.1:9" } }
routes: [{ name: all, upstream: app, access: authenticated }]
`,
  )
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [...TYPESCRIPT_NODE_ARGS, join(ROOT, 'src', 'cli.ts'), 'raccordement', '--config', file, ...args],
        { encoding: 'utf8', env: { ...process.env, S: 'x-secret' } },
        (err, stdout) => resolve({ code: err ? Number(err.code) : 0, stdout }),
      )
    })
  const md = await run([])
  t.equal(md.code, 1, 'users missing')
  t.match(md.stdout, '# Raccordement Pro Santé Connect — BAS (bac à sable)')
  const json = await run(['--json', '--users', '40'])
  t.equal(json.code, 0)
  const sheet = JSON.parse(json.stdout) as OnboardingSheet
  t.equal(sheet.expectedUsers, 40)
  t.same(sheet.redirectUris, ['https://dpi.ch-arles.fr/_psc/callback'])
  const missing = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [...TYPESCRIPT_NODE_ARGS, join(ROOT, 'src', 'cli.ts'), 'raccordement', '--config', join(dir, 'absent.yaml')],
      { encoding: 'utf8' },
      (err, _stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }),
    )
  })
  t.equal(missing.code, 1)
  t.equal(
    missing.stderr,
    `psc-gateway : fichier introuvable : ${join(dir, 'absent.yaml')}\n`,
    'a missing file in words, not ENOENT',
  )
})

t.test('raccordement flags each publicUrl rule (on the BAS, where the loader lets them through)', async (t) => {
  const cases: Array<[string, string]> = [
    ['https://localhost', 'loopback'],
    ['https://dpi.ch-arles.fr.', 'trailing-dot'],
    ['"https://user:pw@dpi.ch-arles.fr"', 'credentials'],
    ['"https://dpi.ch-arles.fr?x=1"', 'query'],
    ['"https://dpi.ch-arles.fr#x"', 'fragment'],
    ['https://dpi_prod.ch-arles.fr', 'underscore'],
  ]
  for (const [url, rule] of cases) {
    const sheet = buildOnboardingSheet(
      config(url, '  serviceName: "Dossier patient – CH d\'Arles"\n  expectedUsers: 350', undefined, 'bas'),
    )
    t.same(
      sheet.problems.filter((p) => p.field === 'publicUrl').map((p) => p.rule),
      [rule],
      url,
    )
    t.match(formatOnboardingSheet(sheet), new RegExp(`\\*\\*publicUrl\\*\\* \\(${rule}\\) : `), url)
  }
  const ip = buildOnboardingSheet(
    config(
      'https://10.1.2.3',
      '  serviceName: "Dossier patient – CH d\'Arles"\n  expectedUsers: 350',
      undefined,
      'bas',
    ),
  )
  t.same(
    rules(ip).filter((r) => r.includes('ip-address')),
    ['logoutUris:ip-address', 'redirectUris:ip-address'],
    'an IP address is flagged on the URLs ANS registers',
  )
  t.match(
    formatOnboardingSheet(buildOnboardingSheet(config('https://localhost', '', undefined, 'bas'))),
    'localhost est une adresse locale',
  )
})
