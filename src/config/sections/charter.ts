// charter: the IT charter ("charte d'utilisation du système d'information") a practitioner accepts
// once per version before reaching the applications (endpoints/charter-routes.ts). Its text is a
// file (plain text with a little Markdown, shown escaped) or a link to the hospital's own page.
import { Type } from '@sinclair/typebox'
import type { ConfigSection } from '../checks.js'
import { Duration } from '../formats.js'
import { parseDuration } from '../duration.js'
import { placeFile, readNamedFile } from '../named-file.js'
import type { RawConfig } from '../schema.js'

/** The largest charter text accepted: a charter is a few pages, not a book. */
export const CHARTER_MAX_BYTES = 256 * 1024

export const CharterSchema = Type.Object(
  {
    version: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
      description:
        'The version in force, e.g. "2026-01" (letters, digits, ".", "_", "-"): practitioners accept each version once; changing it asks everyone again',
    }),
    file: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'The charter text: a UTF-8 text file (paragraphs, "# " headings, "- " lists), relative to this configuration file; shown escaped, never as HTML',
      }),
    ),
    url: Type.Optional(
      Type.String({
        pattern: '^https://[^\\s]+$',
        description:
          "Instead of file: the https:// address of the hospital's page that holds the charter (linked from the page)",
      }),
    ),
    exempt: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'Where the charter is not asked: a path ("/health", and everything under it) or a host name ("api.hopital.fr"). Public routes never ask it',
    }),
    remember: Duration({
      default: '365d',
      description: 'How long an acceptance is kept in the session store (then asked again, even for the same version)',
    }),
  },
  { additionalProperties: false },
)

export interface CharterSettings {
  version: string
  /** absolute path of the charter text, or undefined with `url` */
  file?: string
  url?: string
  /** exempt path prefixes (without a trailing slash) */
  exemptPaths: string[]
  /** exempt host names, lower case, without port */
  exemptHosts: string[]
  rememberMs: number
}

export const charter: ConfigSection<'charter'> = {
  check(raw, checks) {
    const c = raw.charter
    if (c === undefined) return
    if ((c.file === undefined) === (c.url === undefined))
      checks.error(['charter'], 'charter needs exactly one of file (the text) or url (a link to it)', true)
    if (c.file !== undefined) {
      const read = readNamedFile(placeFile(c.file, checks.source), CHARTER_MAX_BYTES)
      if ('problem' in read) checks.error(['charter', 'file'], `the charter text: ${read.problem}`)
      else if (!isUtf8Text(read.bytes)) checks.error(['charter', 'file'], 'the charter text is not UTF-8 text')
      else if (read.bytes.toString('utf8').trim() === '') checks.error(['charter', 'file'], 'the charter text is empty')
    }
    c.exempt.forEach((entry, i) => {
      if (entry.startsWith('/')) {
        if (entry.includes('?') || entry.includes('#') || entry.includes('..'))
          checks.error(
            ['charter', 'exempt', String(i)],
            `expected a path such as "/health", got ${JSON.stringify(entry)}`,
          )
      } else if (!/^[A-Za-z0-9.-]+$/.test(entry)) {
        checks.error(
          ['charter', 'exempt', String(i)],
          `expected a path starting with "/" or a host name such as "api.hopital.fr", got ${JSON.stringify(entry)}`,
        )
      }
    })
  },
  convert: (raw, conversion) => ({ charter: charterSettings(raw, conversion.source) }),
}

function charterSettings(raw: RawConfig, configFile: string | undefined): CharterSettings | undefined {
  const c = raw.charter
  if (c === undefined) return undefined
  const paths = c.exempt.filter((e) => e.startsWith('/')).map((p) => (p.length > 1 ? p.replace(/\/+$/, '') : p))
  return {
    version: c.version,
    ...(c.file !== undefined && { file: placeFile(c.file, configFile) }),
    ...(c.url !== undefined && { url: c.url }),
    exemptPaths: paths,
    exemptHosts: c.exempt.filter((e) => !e.startsWith('/')).map((h) => h.toLowerCase()),
    // durations are checked for the whole file (duration-keys.ts)
    rememberMs: parseDuration(c.remember) ?? 0,
  }
}

function isUtf8Text(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    return !bytes.includes(0)
  } catch {
    return false
  }
}
