// The language of a page: French unless the browser prefers English (Accept-Language).

export type Language = 'fr' | 'en'

/** The first of fr/en in the client's order of preference (q values honoured); French by default. */
export function pageLanguage(acceptLanguage: string | string[] | undefined): Language {
  if (typeof acceptLanguage !== 'string' || acceptLanguage === '') return 'fr'
  let best: Language = 'fr'
  let bestQ = -1
  for (const part of acceptLanguage.slice(0, 256).split(',')) {
    const [tag = '', ...params] = part.trim().toLowerCase().split(';')
    const primary = tag.split('-')[0]
    if (primary !== 'fr' && primary !== 'en') continue
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    const q = qParam === undefined ? 1 : Number(qParam.slice(2))
    if (!Number.isFinite(q) || q <= 0) continue
    // the first listed wins a tie
    if (q > bestQ) {
      best = primary
      bestQ = q
    }
  }
  return best
}
