// What a practitioner types to be recognised (on a shared workstation, to receive a CIBA push) → the
// national identifier (idNat) PSC expects as login_hint. People type their RPPS number as printed on
// their card (11 digits, often in groups), or the idNat itself (8 + RPPS), or an ADELI number; any
// other shape is refused before anything is sent to PSC. Pure: no I/O, never throws.

export type LoginHintProblem =
  /** nothing but spaces */
  | 'empty'
  /** longer than any national identifier */
  | 'too_long'
  /** a character no national identifier has */
  | 'invalid_characters'
  /** no national identifier has this shape (a number of the wrong length, letters where none go) */
  | 'malformed'

export type LoginHint =
  | { ok: true; idNat: string; kind: 'rpps' | 'adeli' | 'other' }
  | { ok: false; problem: LoginHintProblem }

/** Longest idNat known: "5" + SIRET (14) + "/" + a local id; generous, but bounded. */
export const MAX_LOGIN_HINT_LENGTH = 64

// Spaces of any kind (including the no-break spaces a copy from a PDF brings) and the dots and
// dashes people put between digit groups. Never "/": it is part of FINESS/SIRET-based idNats.
const SEPARATORS = /[\s\u00a0\u2007\u202f.-]+/gu
const ALLOWED = /^[A-Za-z0-9/]+$/
const DIGITS = /^\d+$/

// The shapes of idNat beside RPPS and ADELI: "3" + FINESS (9 digits) or "5" + SIRET (14 digits),
// then "/" and a local identifier; test accounts: three capitals and a date-time (ANS20231122132732).
const STRUCTURE_BASED = /^[35](\d{9}|\d{14})\/[A-Za-z0-9]{1,40}$/
const TEST_ACCOUNT = /^[A-Z]{3}\d{8,20}$/

export function normaliseLoginHint(typed: unknown): LoginHint {
  if (typeof typed !== 'string') return { ok: false, problem: 'empty' }
  // Checked before the separators are removed too: a huge input is refused without more work.
  if (typed.length > MAX_LOGIN_HINT_LENGTH * 4) return { ok: false, problem: 'too_long' }
  const compact = typed.replace(SEPARATORS, '')
  if (compact === '') return { ok: false, problem: 'empty' }
  if (compact.length > MAX_LOGIN_HINT_LENGTH) return { ok: false, problem: 'too_long' }
  if (!ALLOWED.test(compact)) return { ok: false, problem: 'invalid_characters' }
  if (DIGITS.test(compact)) {
    // RPPS: 11 digits; its idNat is "8" + RPPS.
    if (compact.length === 11) return { ok: true, idNat: `8${compact}`, kind: 'rpps' }
    if (compact.length === 12 && compact.startsWith('8')) return { ok: true, idNat: compact, kind: 'rpps' }
    // ADELI: 9 digits; its idNat is "0" + ADELI.
    if (compact.length === 9) return { ok: true, idNat: `0${compact}`, kind: 'adeli' }
    if (compact.length === 10 && compact.startsWith('0')) return { ok: true, idNat: compact, kind: 'adeli' }
    // Any other number is a typing mistake: sent to PSC it would only notify nobody, or someone else.
    return { ok: false, problem: 'malformed' }
  }
  // Separators are what people put between digit groups: inside an identifier with letters they
  // change it ("abc-12" is not "abc12"), so such an identifier must be typed as it is.
  const trimmed = typed.trim()
  if (trimmed !== compact) return { ok: false, problem: 'malformed' }
  if (STRUCTURE_BASED.test(compact) || TEST_ACCOUNT.test(compact)) return { ok: true, idNat: compact, kind: 'other' }
  return { ok: false, problem: 'malformed' }
}

/** The RPPS of an idNat, when it is one ("8" + 11 digits). */
export function rppsOfIdNat(idNat: string): string | undefined {
  return /^8\d{11}$/.test(idNat) ? idNat.slice(1) : undefined
}
