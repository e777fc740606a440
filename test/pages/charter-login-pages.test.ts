// The charter and login pages rendered: a hostile charter text, service or establishment name is
// shown as text and can inject no markup; the PSC button is ANS's image when configured, else the
// text button with ANS's wording.
import t from 'tap'
import { charterPage } from '../../src/pages/charter-page.js'
import { charterTextHtml } from '../../src/pages/charter-text.js'
import { loginPage, PSC_BUTTON_LABEL } from '../../src/pages/login-page.js'

const HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'

/** Every tag the HTML opens, by name. */
const tags = (html: string) => [...html.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1]!.toLowerCase())

t.test('the charter text: headings, lists and paragraphs; every character escaped', async (t) => {
  const html = charterTextHtml(
    `# Objet\n\nLigne 1 ${HOSTILE}\nligne 2\n\n- un <b>point</b>\n- deux & trois\n\n## [lien](javascript:alert(1))\n`,
  )
  t.equal(
    html,
    [
      '<h2>Objet</h2>',
      '<p>Ligne 1 &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;<br>ligne 2</p>',
      '<ul><li>un &lt;b&gt;point&lt;/b&gt;</li><li>deux &amp; trois</li></ul>',
      '<h3>[lien](javascript:alert(1))</h3>',
    ].join('\n'),
  )
  t.same(new Set(tags(html)), new Set(['h2', 'p', 'br', 'ul', 'li', 'h3']), 'no tag but those the renderer writes')
})

t.test('the charter page: hostile branding, version and return path stay text or attribute values', async (t) => {
  const html = charterPage('fr', {
    version: 'v1',
    textHtml: charterTextHtml('Texte'),
    action: '/_psc/charter',
    rd: `/x${HOSTILE}`,
    logoutHref: '/_psc/logout',
    branding: { service: HOSTILE, establishment: HOSTILE, logo: { file: '/l.png', contentType: 'image/png' } },
    logoHref: '/_psc/branding/logo',
  })
  t.notMatch(html, /<script|<img src=x/, 'nothing hostile is markup')
  t.match(html, /<p class="service" id="branding-service">&quot;&gt;&lt;script&gt;/)
  t.match(html, /<input type="hidden" name="rd" value="\/x&quot;&gt;&lt;script&gt;/)
  t.match(html, /<input type="hidden" name="version" value="v1">/)
  t.match(html, /<img id="branding-logo" src="\/_psc\/branding\/logo" alt="&quot;&gt;&lt;script&gt;/)
  t.match(html, /<form method="post" action="\/_psc\/charter">/)
  const en = charterPage('en', {
    version: 'v1',
    url: 'https://intranet.chu.fr/charte"><script>',
    action: '/_psc/charter',
    rd: '/',
    logoutHref: '/_psc/logout',
    branding: {},
    logoHref: '/l',
  })
  t.match(en, /<html lang="en">/)
  t.match(en, /I have read the charter and accept it/)
  t.match(
    en,
    /href="https:\/\/intranet\.chu\.fr\/charte&quot;&gt;&lt;script&gt;" target="_blank" rel="noopener noreferrer"/,
  )
  t.notMatch(en, /<header class="branding">/, 'no branding: no header')
})

t.test('the login page: service, establishment and logo; the PSC button as text or as ANS image', async (t) => {
  const text = loginPage('fr', {
    pscHref: '/_psc/login?rd=%2F&via=psc',
    branding: { service: `DPI ${HOSTILE}`, establishment: 'CHU de Nantes' },
    logoHref: '/_psc/branding/logo',
    buttonHref: '/_psc/branding/psc-button',
  })
  t.notMatch(text, /<script|<img src=x/, 'a hostile service name is no markup')
  t.match(text, /<title>Connexion · DPI &quot;&gt;&lt;script&gt;/)
  t.match(text, /id="branding-establishment">CHU de Nantes</)
  t.notMatch(text, /branding-logo/, 'no logo configured: no image')
  t.match(text, `<a class="psc-button" id="psc-button" href="/_psc/login?rd=%2F&amp;via=psc">${PSC_BUTTON_LABEL}</a>`)
  t.equal(PSC_BUTTON_LABEL, 'Se connecter avec Pro Santé Connect')
  const image = loginPage('en', {
    pscHref: '/_psc/login?via=psc',
    branding: { pscButton: { file: '/b.svg', contentType: 'image/svg+xml' } },
    logoHref: '/l',
    buttonHref: '/_psc/branding/psc-button',
    sessionExpired: true,
  })
  t.match(
    image,
    '<a class="psc-image" id="psc-button" href="/_psc/login?via=psc"><img src="/_psc/branding/psc-button" alt="Se connecter avec Pro Santé Connect"></a>',
  )
  t.match(image, /id="session-expired"/)
  t.match(image, /<html lang="en">/)
})
