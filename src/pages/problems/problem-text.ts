// What every page text reads (the problem's context) and is made of (a title and paragraphs per
// language), with the sentences several areas' pages share.
import type { PscErrorCode } from '../../errors.js'
import type { DenialDetails } from '../../policy/decide.js'
import type { Language } from '../language.js'

/** The facts a page may use; each code reads the few it needs. */
export interface ProblemContext {
  lang: Language
  /** the gateway's login URL, with the page to come back to */
  loginHref?: string
  /** the page that was asked for (a way back, or to retry) */
  retryHref?: string
  logoutHref?: string
  denial?: DenialDetails
  /** who is logged in, for a refusal */
  who?: { displayName: string; idNat: string }
  retryAfterSeconds?: number
  limitBytes?: number
  /** technical detail, shown only when pages.showDetails is on */
  detail?: string
  /** the status of a client error whose code is generic (fastify's 405, 415, ...) */
  status?: number
  /** whom to contact about a local account (accounts.contact) */
  contact?: string
  /** the way out of a refused request (a 4xx): the application's home page, unless that was the page asked for */
  homeHref?: string
  /** the login is asked because the session timed out (idle or absolute): the page says so */
  sessionExpired?: boolean
}

export interface Text {
  title: string
  paragraphs: string[]
}
export type Texts = Record<Language, (c: ProblemContext) => Text>
/** One area's page texts, by code; problems.ts joins the areas and checks that every code has one. */
export type AreaTexts = Partial<Record<PscErrorCode, Texts>>

export const SUPPORT = {
  fr: "Si le problème persiste, contactez le support informatique de l'établissement avec la référence ci-dessous.",
  en: "If the problem persists, contact your hospital's IT support with the reference below.",
}
export const RETRY_SOON = { fr: 'Réessayez dans quelques instants.', en: 'Try again in a few moments.' }
// The hospital's network, not PSC: the practitioner can do nothing but tell the IT support, who
// must not go looking at PSC's side.
export const OUTBOUND_PROXY = {
  fr: "Le serveur de l'établissement ne parvient pas à joindre Pro Santé Connect : le proxy de sortie de son réseau refuse la connexion ou ne répond pas. Pro Santé Connect n'est pas en cause.",
  en: "The hospital's server cannot reach Pro Santé Connect: the outbound proxy of its network refuses the connection or does not answer. Pro Santé Connect is not at fault.",
}
export const PROXY_SUPPORT = {
  fr: "Prévenez le support informatique de l'établissement (proxy de sortie vers Pro Santé Connect) avec la référence ci-dessous, puis réessayez.",
  en: "Tell your hospital's IT support (outbound proxy to Pro Santé Connect), giving the reference below, then try again.",
}
