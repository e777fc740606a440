// The per-line work of `audit verify`: parse a chained line's fixed parts, check its mac with the
// keys given (by key id), and read a field of it. The same work on a whole block of bytes, for the
// worker threads, is block-check.ts; the chain across lines and files, and the findings, are
// ChainVerifier's (chain-verifier.ts).
import { createHmac } from 'node:crypto'
import { keyIdOf } from '../chain.js'

/** What a line's mac says, found by whoever checked it (0: not a chained line, nothing checked). */
export const Verdict = { None: 0, Authentic: 1, Edited: 2, UnknownKey: 3 } as const
export type Verdict = (typeof Verdict)[keyof typeof Verdict]

/** `,"mac":"` + 43 characters + `"}` */
const SUFFIX_LENGTH = 53
const PREFIX = /^\{"log":"audit","seq":(\d+),(?:"kid":"([A-Za-z0-9_-]{8})",)?/

export interface ChainedLine {
  seq: number
  kid: string | undefined
  mac: string
  /** where `,"mac":"` starts: the mac covers text[0, macAt) + "}" */
  macAt: number
  /** length of the `{"log":"audit","seq":N,"kid":"K",` prefix: the event's fields start there */
  fieldsAt: number
}

/** The chained line's fixed parts; undefined when it has no mac suffix or no audit prefix. */
export function parseChained(text: string): ChainedLine | undefined {
  const len = text.length
  const macAt = len - SUFFIX_LENGTH
  if (macAt < 0 || !text.startsWith(',"mac":"', macAt) || !text.endsWith('"}')) return undefined
  const prefix = PREFIX.exec(text)
  if (prefix === null) return undefined
  return {
    seq: Number(prefix[1]),
    kid: prefix[2],
    mac: text.slice(macAt + 8, len - 2),
    macAt,
    fieldsAt: prefix[0].length,
  }
}

/** Whether the text has the mac suffix at all (a line without it is cut short or not an audit line). */
export function hasMacSuffix(text: string): boolean {
  const macAt = text.length - SUFFIX_LENGTH
  return macAt >= 0 && text.startsWith(',"mac":"', macAt) && text.endsWith('"}')
}

export class KeyRing {
  // Buffers, not KeyObjects: on Node 20 an HMAC from a KeyObject costs more to set up per line.
  readonly byId = new Map<string, Buffer>()

  constructor(keys: Buffer[]) {
    for (const k of keys) this.byId.set(keyIdOf(k), k)
  }

  verdict(text: string, line: ChainedLine): Verdict {
    const signed = `${text.slice(0, line.macAt)}}`
    if (line.kid !== undefined) {
      const key = this.byId.get(line.kid)
      if (key === undefined) return Verdict.UnknownKey
      return macOf(key, signed) === line.mac ? Verdict.Authentic : Verdict.Edited
    }
    // Lines written before key ids: any of the keys.
    for (const key of this.byId.values()) if (macOf(key, signed) === line.mac) return Verdict.Authentic
    return Verdict.Edited
  }
}

function macOf(key: Buffer, signedText: string): string {
  return createHmac('sha256', key).update(signedText).digest('base64url')
}

/** The string value of the first `name` (e.g. `"time":"`) after `from`. */
export function field(text: string, name: string, from: number): string | undefined {
  const i = text.indexOf(name, from)
  if (i === -1) return undefined
  const start = i + name.length
  const end = text.indexOf('"', start)
  return end === -1 ? undefined : text.slice(start, end)
}

/** Whether `line` (parsed from `text`) names `previousMac` as its prev: `"prev":"<mac>"` comes right before the mac. */
export function linksTo(text: string, line: ChainedLine, previousMac: string): boolean {
  return text.startsWith('"prev":"', line.macAt - 52) && text.startsWith(previousMac, line.macAt - 44)
}
