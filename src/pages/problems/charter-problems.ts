// The page of a request that waits for the IT charter to be accepted and cannot show it (not a
// browser navigation): where to go to read it.
import type { AreaTexts } from './problem-text.js'

export const CHARTER_PROBLEMS = {
  PSC_ERR_CHARTER_REQUIRED: {
    fr: () => ({
      title: "Charte d'utilisation à accepter",
      paragraphs: [
        "Vous devez lire et accepter la charte d'utilisation du système d'information de l'établissement avant d'utiliser cette application.",
        "Ouvrez la page d'accueil de l'application dans votre navigateur : la charte vous sera présentée.",
      ],
    }),
    en: () => ({
      title: 'IT charter to accept',
      paragraphs: [
        "You must read and accept the hospital's IT charter before using this application.",
        "Open the application's home page in your browser: the charter will be shown to you.",
      ],
    }),
  },
} satisfies AreaTexts
