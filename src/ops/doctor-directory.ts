// The `doctor` check of the hospital's directory (accounts.source: ldap): bind as the service
// account and look one account up, as a login would; each way of failing gets its own advice
// (unreachable, silent past the timeout, certificate, bind refused, nobody found). In French,
// English on request, like the rest of the doctor's report.
import { ldapHealthCheck, type LdapHealthStep, type LdapProblem } from '../accounts/ldap-health.js'
import type { AccountsSettings, LdapSettings } from '../config/types.js'

export interface DirectoryCheck {
  name: 'directory'
  verdict: 'ok' | 'warn' | 'fail'
  detail: string
  todo?: string
}

type Lang = 'fr' | 'en'
interface Said {
  detail: string
  todo: string
}

function advice(problem: LdapProblem, s: LdapSettings, step: LdapHealthStep, lang: Lang): Said {
  const d = step.detail
  const fr = lang === 'fr'
  switch (problem) {
    case 'ca-file':
      return fr
        ? {
            detail: `fichier d'AC de l'annuaire illisible : ${d}`,
            todo: 'vérifiez le chemin et les droits de accounts.ldap.caFile',
          }
        : {
            detail: `the directory's CA file cannot be read: ${d}`,
            todo: 'check the path and permissions of accounts.ldap.caFile',
          }
    case 'unreachable':
      return fr
        ? {
            detail: `annuaire injoignable : ${d}`,
            todo: `vérifiez l'adresse (accounts.ldap.url), le DNS et le pare-feu entre ce serveur et ${s.url}`,
          }
        : {
            detail: `directory unreachable: ${d}`,
            todo: `check the address (accounts.ldap.url), DNS and the firewall between this server and ${s.url}`,
          }
    case 'timeout':
      return fr
        ? {
            detail: `l'annuaire ne répond pas dans le délai (${s.timeoutMs} ms) : ${d}`,
            todo: "la connexion aboutit mais rien ne revient : vérifiez l'état de l'annuaire (contrôleur de domaine surchargé ou arrêté), un pare-feu qui filtre, ou augmentez accounts.ldap.timeout",
          }
        : {
            detail: `the directory does not answer within ${s.timeoutMs} ms: ${d}`,
            todo: 'the connection opens but nothing comes back: check the directory (domain controller overloaded or stopped), a filtering firewall, or raise accounts.ldap.timeout',
          }
    case 'tls':
      return fr
        ? {
            detail: `certificat de l'annuaire refusé : ${d}`,
            todo: "accounts.ldap.caFile doit contenir l'AC de l'établissement qui a signé le certificat de l'annuaire, et le nom de l'URL doit y figurer",
          }
        : {
            detail: `the directory's certificate is refused: ${d}`,
            todo: "accounts.ldap.caFile must hold the hospital CA that signed the directory's certificate, and the URL's host name must be in it",
          }
    case 'bind':
      return fr
        ? {
            detail: `authentification refusée (bind) : ${d}`,
            todo: 'vérifiez accounts.ldap.bindDn et son mot de passe (bindPassword, LDAP_BIND_PASSWORD) ; le compte de service est-il verrouillé ou expiré ?',
          }
        : {
            detail: `bind refused: ${d}`,
            todo: 'check accounts.ldap.bindDn and its password (bindPassword, LDAP_BIND_PASSWORD); is the service account locked or expired?',
          }
    case 'base':
      return fr
        ? {
            detail: `base de recherche introuvable ou illisible : ${d}`,
            todo: 'vérifiez accounts.ldap.baseDn et les droits de lecture du compte de service',
          }
        : {
            detail: `search base missing or unreadable: ${d}`,
            todo: "check accounts.ldap.baseDn and the service account's read rights",
          }
    case 'no-match':
      return fr
        ? {
            detail: `aucun compte trouvé : ${d}`,
            todo: `vérifiez accounts.ldap.filter (l'attribut qui porte le RPPS ou l'idNat) et baseDn${s.testIdNat !== undefined ? ", et que accounts.ldap.testIdNat est bien dans l'annuaire" : ''}`,
          }
        : {
            detail: `no account found: ${d}`,
            todo: `check accounts.ldap.filter (the attribute holding the RPPS or idNat) and baseDn${s.testIdNat !== undefined ? ', and that accounts.ldap.testIdNat is in the directory' : ''}`,
          }
    case 'duplicate':
      return fr
        ? {
            detail: `compte en double : ${d}`,
            todo: "une seule entrée par praticien : la passerelle refuse ce praticien tant qu'il en a plusieurs",
          }
        : {
            detail: `duplicate account: ${d}`,
            todo: 'one entry per practitioner: the gateway refuses this practitioner while there are several',
          }
    case 'disabled':
      return fr
        ? {
            detail: `compte de test désactivé : ${d}`,
            todo: "l'annuaire répond ; choisissez un compte actif pour accounts.ldap.testIdNat",
          }
        : {
            detail: `test account disabled: ${d}`,
            todo: 'the directory answers; choose an active account for accounts.ldap.testIdNat',
          }
    case 'error':
      return fr
        ? {
            detail: `erreur de l'annuaire : ${d}`,
            todo: "lisez le détail ci-dessus avec l'équipe qui administre l'annuaire",
          }
        : { detail: `directory error: ${d}`, todo: 'read the detail above with the team that runs the directory' }
  }
}

/** undefined when no directory is configured (no accounts, or a mapping file). */
export async function directoryCheck(
  accounts: AccountsSettings | undefined,
  lang: Lang = 'fr',
): Promise<DirectoryCheck | undefined> {
  const s = accounts?.source === 'ldap' ? accounts.ldap : undefined
  if (s === undefined) return undefined
  const health = await ldapHealthCheck(s, s.testIdNat !== undefined ? { idNat: s.testIdNat } : undefined)
  const failed = health.steps.find((step) => !step.ok)
  if (failed === undefined) {
    const found = health.steps.find((step) => step.step === 'search')?.detail ?? ''
    const what =
      s.testIdNat !== undefined
        ? lang === 'fr'
          ? `compte de test ${s.testIdNat}`
          : `test account ${s.testIdNat}`
        : lang === 'fr'
          ? 'une entrée'
          : 'an entry'
    return {
      name: 'directory',
      verdict: 'ok',
      detail:
        lang === 'fr'
          ? `${s.url} : authentifié comme ${s.bindDn}, ${what} trouvée (${found})`
          : `${s.url}: bound as ${s.bindDn}, ${what} found (${found})`,
    }
  }
  const said = advice(failed.problem ?? 'error', s, failed, lang)
  return { name: 'directory', verdict: failed.problem === 'disabled' ? 'warn' : 'fail', ...said }
}
