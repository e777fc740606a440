// The compact identity the gateway keeps for a logged-in practitioner. It is made once, at login,
// from PSC's UserInfo (see map-user-info.ts), and is all that the policy and the header mapping read.

/** A place where an exercice is practised (PSC `activities[]`). Empty PSC strings become absent. */
export interface Structure {
  /** identifiantTechniqueDeLaStructure */
  id?: string
  /** raisonSocialeSite */
  name?: string
  /** numeroFinessSite */
  finess?: string
  /** numeroFinessetablissementJuridique */
  finessLegal?: string
  /** numeroSiretSite */
  siret?: string
  /** codeSecteurDactivite */
  sector?: string
  /** codeRole */
  role?: string
}

/** One professional exercice (PSC `SubjectRefPro.exercices[]`). */
export interface Exercice {
  /** codeProfession, e.g. "10" (médecin); "" when PSC gave none */
  professionCode: string
  /** label from the TRE_G15 table, or "" for a code outside it (psychologue 93, ostéopathe 71: TRE_R95) */
  professionLabel: string
  /** codeCategorieProfessionnelle: C civil, M agent public, E étudiant */
  category?: string
  /** codeSavoirFaire, e.g. "SM26" */
  specialtyCode?: string
  /** codeTypeSavoirFaire */
  specialtyType?: string
  /** codeCiviliteDexercice, e.g. "DR" */
  civility?: string
  /** nomDexercice / prenomDexercice */
  familyName?: string
  givenName?: string
  structures: Structure[]
}

export interface Identity {
  /** PSC `sub` from the ID token, e.g. "f:<uuid>:<idNat>" */
  sub: string
  /** national identifier (SubjectNameID / preferred_username); an opaque string */
  idNat: string
  /** RPPS number, present only when idNat is "8" + 11 digits */
  rpps?: string
  familyName: string
  givenName: string
  /** codeCivilite, e.g. "M", "MME" */
  civility?: string
  /** acr returned by PSC, e.g. "eidas1"; "" when PSC gave none (check it with acrSatisfies) */
  acr: string
  /** PSC authMode claim, e.g. "CARD" */
  authMode?: string
  /** in PSC order; the first one is the "primary" exercice used for single-valued headers */
  exercices: Exercice[]
  /**
   * The practitioner's account in the protected application (not from PSC): looked up at login and
   * again with the session's refresh (src/accounts/), kept in the session with the rest of the
   * identity. Absent when no account source is configured.
   */
  account?: AccountLookup
}

/** What the account source answered for a practitioner; `checkedAt` is epoch ms. */
export type AccountLookup =
  /** `stale`: the directory did not answer; this is a cached answer within the stale limit */
  | { status: 'found'; login: string; displayName?: string; groups: string[]; checkedAt: number; stale?: boolean }
  | { status: 'none'; checkedAt: number }
  /** the directory did not answer and nothing usable was cached: routes that need an account fail closed */
  | { status: 'unavailable'; reason: string; checkedAt: number }
  /**
   * The directory answered, but with no account the gateway may use: `duplicate`, several entries
   * for this practitioner (it will not pick one); `disabled`, an Active Directory account whose
   * userAccountControl has ACCOUNTDISABLE. Routes that need an account refuse, naming the contact.
   */
  | { status: 'duplicate'; checkedAt: number }
  | { status: 'disabled'; checkedAt: number }
