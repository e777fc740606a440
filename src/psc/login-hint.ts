// What a practitioner types to be recognised (on a shared workstation, to receive a CIBA push) → the
// national identifier (idNat) PSC expects as login_hint. People type their RPPS number as printed on
// their card (11 digits, often in groups), or the idNat itself (8 + RPPS), or an ADELI number. Pure:
// no I/O, never throws.

export type LoginHintProblem =
  /** nothing but spaces */
  | 'empty'
  /** longer than any national identifier */
  | 'too_long'
  /** a character no national identifier has */
  | 'invalid_characters'

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
    if (compact.length === 11) return { ok: true, idNat: '8' + compact, kind: 'rpps' }
    if (compact.length === 12 && compact.startsWith('8')) return { ok: true, idNat: compact, kind: 'rpps' }
    // ADELI: 9 digits; its idNat is "0" + ADELI.
    if (compact.length === 9) return { ok: true, idNat: '0' + compact, kind: 'adeli' }
    if (compact.length === 10 && compact.startsWith('0')) return { ok: true, idNat: compact, kind: 'adeli' }
  }
  // Anything else (FINESS/SIRET-based "3…"/"5…/…", test accounts such as ANS20231122132732) is an
  // opaque idNat: passed as typed, without separators. PSC says whether it knows it.
  return { ok: true, idNat: compact, kind: 'other' }
}

/** The RPPS of an idNat, when it is one ("8" + 11 digits). */
export function rppsOfIdNat(idNat: string): string | undefined {
  return /^8\d{11}$/.test(idNat) ? idNat.slice(1) : undefined
}
