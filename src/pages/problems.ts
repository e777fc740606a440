// What a practitioner reads for each outcome code, in French (English by Accept-Language): the
// lookup that joins the texts of every area (problems/) with the page's links and details. A page
// says what happened and what to do, with a way on; the technical detail (which rule, what PSC
// answered) goes to the log and the audit, and on the page only when the operator asks for it.
import { definitionOf, type PscErrorCode } from '../errors.js'
import type { PageLink } from './html.js'
import { ACCESS_PROBLEMS } from './problems/access-problems.js'
import { AVAILABILITY_PROBLEMS } from './problems/availability-problems.js'
import { CHARTER_PROBLEMS } from './problems/charter-problems.js'
import { LOGIN_PROBLEMS } from './problems/login-problems.js'
import type { ProblemContext, Texts } from './problems/problem-text.js'
import { REQUEST_PROBLEMS } from './problems/request-problems.js'
import { SESSION_PROBLEMS } from './problems/session-problems.js'

export type { ProblemContext } from './problems/problem-text.js'

export interface Problem {
  status: number
  /** stable machine-readable code, e.g. "PSC_ERR_DENIED_PROFESSION" */
  code: PscErrorCode
  title: string
  paragraphs: string[]
  details?: Array<[string, string]>
  links?: PageLink[]
  /** extra fields for the JSON form */
  json?: Record<string, unknown>
}

// Every code has its text (the type says so), written by one area only (a later spread would hide an earlier one).
const TEXTS: Record<PscErrorCode, Texts> = {
  ...REQUEST_PROBLEMS,
  ...SESSION_PROBLEMS,
  ...LOGIN_PROBLEMS,
  ...ACCESS_PROBLEMS,
  ...AVAILABILITY_PROBLEMS,
  ...CHARTER_PROBLEMS,
}

const LABELS = {
  fr: {
    retry: 'Réessayer',
    back: 'Revenir à la page demandée',
    login: 'Se connecter',
    relogin: 'Se reconnecter',
    logout: 'Se déconnecter',
    home: "Page d'accueil",
    who: 'Connecté en tant que',
    detail: 'Détail technique',
  },
  en: {
    retry: 'Try again',
    back: 'Back to the page asked for',
    login: 'Log in',
    relogin: 'Log in again',
    logout: 'Log out',
    home: 'Home page',
    who: 'Logged in as',
    detail: 'Technical detail',
  },
}

function linksFor(code: PscErrorCode, status: number, c: ProblemContext): PageLink[] {
  const l = LABELS[c.lang]
  const links: PageLink[] = []
  const add = (href: string | undefined, label: string) => {
    if (href !== undefined) links.push({ href, label })
  }
  if (code.startsWith('PSC_ERR_DENIED_')) {
    links.push({ href: '/', label: l.home })
    add(c.logoutHref, l.logout)
  } else if (code.startsWith('PSC_ERR_LOGIN_REQUIRED')) {
    add(c.loginHref, l.login)
  } else if (code.startsWith('PSC_ERR_LOGIN_')) {
    add(c.loginHref, l.relogin)
    if (c.retryHref !== undefined && c.retryHref !== '/') add(c.retryHref, l.back)
  } else if (status >= 500 || status === 429) {
    add(c.retryHref, l.retry)
  } else if (status >= 400) {
    // a refused address or request (400, 404, 405...): a way back into the application
    add(c.homeHref, l.home)
  }
  return links
}

export function problemFor(code: PscErrorCode, c: ProblemContext): Problem {
  const status = c.status ?? definitionOf(code).status
  const text = TEXTS[code][c.lang](c)
  const details: Array<[string, string]> = []
  if (c.who !== undefined) details.push([LABELS[c.lang].who, `${c.who.displayName} (${c.who.idNat})`])
  if (c.detail !== undefined) details.push([LABELS[c.lang].detail, c.detail])
  const json: Record<string, unknown> = {}
  if (c.loginHref !== undefined && code.startsWith('PSC_ERR_LOGIN')) json.login = c.loginHref
  if (c.retryAfterSeconds !== undefined) json.retryAfter = c.retryAfterSeconds
  if (c.limitBytes !== undefined) json.limit = c.limitBytes
  if (c.sessionExpired === true) json.session = 'expired'
  const problem: Problem = {
    status,
    code,
    title: text.title,
    paragraphs: text.paragraphs,
    links: linksFor(code, status, c),
    json,
  }
  if (details.length > 0) problem.details = details
  return problem
}
