// The per-line work of `audit verify`, which can run on another thread (block-pipeline.ts): parse a
// chained line's fixed parts, check its mac (the costly part: one HMAC per line), and tell whether a
// block's lines simply follow each other (then the verifier only has to take note of the block's
// last line). Everything else (the chain across blocks and files, the findings) is ChainVerifier's.
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

/**
 * A block's lines after its first, when each simply follows the one before it: authentic, signed
 * by a known key id, next seq, linked by prev, not a gap or retention record (a chain-start never links), not
 * the head the verifier looks for; the run's first and last lines have a time. The verifier then
 * takes note of the last one only.
 */
export interface PlainRun {
  lines: number
  lastSeq: number
  lastMac: string
  firstTime: string
  lastTime: string
  /** the times of the run's first and last access events (their times never go back within a run) */
  firstAccessTime?: string | undefined
  lastAccessTime?: string | undefined
  /** the last access event's index in the block */
  lastAccessIndex?: number | undefined
}

export interface BlockCheck {
  lines: number
  /** one per line; Verdict.None where the line is left to the verifier to check */
  verdicts: Uint8Array
  /** set when every line after the first is plain (see PlainRun) */
  run?: PlainRun | undefined
}

const LINE_PREFIX = Buffer.from('{"log":"audit","seq":')
const KID = Buffer.from('"kid":"')
const MAC = Buffer.from(',"mac":"')
const PREV = Buffer.from('"prev":"')
const TIME = Buffer.from('"time":"')
const GAP = Buffer.from('"event":"gap"')
const QUOTE = Buffer.from('"')
/** what the gateway writes after the kid: `"v":1,"time":"<ISO time>","event":"<event>"` */
const V1_TIME = Buffer.from('"v":1,"time":"')
const EVENT_AFTER_TIME = Buffer.from('","event":"')
const GAP_VALUE = Buffer.from('gap"')
const ACCESS_VALUE = Buffer.from('access"')
// a retention removal is read by the verifier (it accounts for the chain's missing head)
const RETENTION = Buffer.from('"event":"audit-retention"')
const RETENTION_VALUE = Buffer.from('audit-retention"')

/** Compares buf[a, a + la) with buf[b, b + lb) as strings (ASCII): <0, 0, >0. */
function compareBytes(buf: Buffer, a: number, la: number, b: number, lb: number): number {
  const n = Math.min(la, lb)
  for (let i = 0; i < n; i++) {
    const d = buf[a + i]! - buf[b + i]!
    if (d !== 0) return d
  }
  return la - lb
}

/**
 * Where the time's closing quote is when the line starts its fields the way the gateway writes
 * them, `"v":1,"time":"…","event":"`, or -1 (then the fields are searched for). Saves two searches
 * through every line.
 */
function usualTimeEnd(buf: Buffer, at: number, to: number): number {
  if (!bytesAt(buf, at, V1_TIME)) return -1
  const limit = Math.min(to, at + V1_TIME.length + 40)
  for (let i = at + V1_TIME.length; i < limit; i++) {
    if (buf[i] === 34) return bytesAt(buf, i, EVENT_AFTER_TIME) ? i : -1
    if (buf[i] === 92) return -1 // an escape: leave it to the search
  }
  return -1
}

function sameBytes(buf: Buffer, a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (buf[a + i] !== buf[b + i]) return false
  return true
}

/** Whether buf[at, at + text.length) is `text` (ASCII). */
function isText(buf: Buffer, at: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (buf[at + i] !== text.charCodeAt(i)) return false
  return true
}

function bytesAt(buf: Buffer, at: number, what: Buffer): boolean {
  if (at < 0 || at + what.length > buf.length) return false
  for (let i = 0; i < what.length; i++) if (buf[at + i] !== what[i]) return false
  return true
}

function isKeyIdByte(b: number): boolean {
  return (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b === 45 || b === 95
}

/**
 * Checks a block's lines on its bytes, the way ChainVerifier checks a line's text but without
 * making a string of each line: one HMAC over the line's bytes, and the fixed parts read in place.
 * A line read back from its bytes differs from its text only if its bytes are not UTF-8, which no
 * line the gateway signs is. Anything unusual is left to the verifier (Verdict.None, not plain).
 */
export function checkBlock(block: Uint8Array, keys: KeyRing, expectSeq: number | undefined): BlockCheck {
  const buf = Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength)
  const verdicts: number[] = []
  let plain = true
  let run: PlainRun | undefined
  // The line before: its seq and where its mac is (-1: not a chained line).
  let prevSeq = -1
  let prevMacAt = -1
  let lastKid = -1
  let lastKey: Buffer | undefined
  // The run's access events: where the first and the last one's time is (-1: none yet).
  let firstAccessAt = -1
  let firstAccessLen = 0
  let accessAt = -1
  let accessLen = 0
  let accessIndex = -1
  const length = buf.length
  let start = 0
  while (start < length) {
    let nl = buf.indexOf(10, start)
    if (nl === -1) nl = length
    const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl
    const index = verdicts.length
    const macAt = end - 53
    let seq = -1
    let at = start + LINE_PREFIX.length
    let kidAt = -1
    if (
      macAt > start &&
      bytesAt(buf, macAt, MAC) &&
      buf[end - 2] === 34 &&
      buf[end - 1] === 125 &&
      bytesAt(buf, start, LINE_PREFIX)
    ) {
      // seq: digits then ","
      let n = 0
      let digits = 0
      for (; at < macAt; at++) {
        const b = buf[at]!
        if (b < 48 || b > 57) break
        n = n * 10 + (b - 48)
        digits++
      }
      if (digits > 0 && digits < 16 && buf[at] === 44) {
        seq = n
        at++
        if (bytesAt(buf, at, KID) && buf[at + 15] === 34 && buf[at + 16] === 44) {
          let ok = true
          for (let i = at + 7; i < at + 15; i++)
            if (!isKeyIdByte(buf[i]!)) {
              ok = false
              break
            }
          if (ok) {
            kidAt = at + 7
            at += 17
          }
        }
        // the mac: 43 base64url characters
        for (let i = macAt + 8; i < end - 2; i++)
          if (!isKeyIdByte(buf[i]!)) {
            seq = -1
            break
          }
      }
    }
    if (seq === -1) {
      verdicts.push(Verdict.None)
      plain = false
      prevMacAt = -1
      start = nl + 1
      continue
    }
    // The key: the one of the line before when it names the same key id (nearly always).
    let key: Buffer | undefined
    if (kidAt !== -1) {
      if (lastKid === -1 || !sameBytes(buf, kidAt, lastKid, 8)) {
        lastKey = keys.byId.get(buf.toString('latin1', kidAt, kidAt + 8))
      }
      lastKid = kidAt
      key = lastKey
    }
    let verdict: Verdict
    if (kidAt === -1) {
      verdict = Verdict.None
    } else if (key === undefined) {
      verdict = Verdict.UnknownKey
    } else {
      // The mac covers the line up to `,"mac":` with "}" in place of the ",": this block is ours.
      buf[macAt] = 125
      const mac = createHmac('sha256', key)
        .update(buf.subarray(start, macAt + 1))
        .digest('base64url')
      buf[macAt] = 44
      verdict = isText(buf, macAt + 8, mac) ? Verdict.Authentic : Verdict.Edited
    }
    verdicts.push(verdict)
    let access = false
    const timeAt = at + V1_TIME.length
    let timeEnd = -1
    if (index > 0 && plain) {
      timeEnd = usualTimeEnd(buf, at, macAt)
      access = timeEnd !== -1 && bytesAt(buf, timeEnd + 11, ACCESS_VALUE)
      if (
        verdict !== Verdict.Authentic ||
        seq !== prevSeq + 1 ||
        prevMacAt === -1 ||
        seq === expectSeq ||
        !bytesAt(buf, macAt - 52, PREV) ||
        !sameBytes(buf, prevMacAt + 8, macAt - 44, 43) ||
        (timeEnd !== -1 ? bytesAt(buf, timeEnd + 11, GAP_VALUE) : indexWithin(buf, GAP, at, macAt) !== -1) ||
        (timeEnd !== -1
          ? bytesAt(buf, timeEnd + 11, RETENTION_VALUE)
          : indexWithin(buf, RETENTION, at, macAt) !== -1) ||
        // an access event whose time goes back: the verifier looks at each line and says where
        (access && accessAt !== -1 && compareBytes(buf, timeAt, timeEnd - timeAt, accessAt, accessLen) < 0)
      ) {
        plain = false
      } else if (run === undefined || nl + 1 >= length) {
        // Times are read on the run's first line and on its last (the block's last line).
        const time = timeEnd !== -1 ? buf.toString('utf8', at + V1_TIME.length, timeEnd) : timeOf(buf, at, macAt)
        if (time === undefined) plain = false
        else if (run === undefined) run = { lines: 1, lastSeq: seq, lastMac: '', firstTime: time, lastTime: time }
        else {
          run.lines++
          run.lastSeq = seq
          run.lastTime = time
        }
      } else {
        run.lines++
        run.lastSeq = seq
      }
    }
    if (plain && access) {
      accessIndex = index
      accessAt = timeAt
      accessLen = timeEnd - timeAt
      if (firstAccessAt === -1) {
        firstAccessAt = accessAt
        firstAccessLen = accessLen
      }
    }
    prevSeq = seq
    prevMacAt = macAt
    start = nl + 1
  }
  // The run's last line is the block's last.
  if (run !== undefined && plain) {
    run.lastMac = buf.toString('latin1', prevMacAt + 8, prevMacAt + 51)
    if (firstAccessAt !== -1) {
      run.firstAccessTime = buf.toString('latin1', firstAccessAt, firstAccessAt + firstAccessLen)
      run.lastAccessTime = buf.toString('latin1', accessAt, accessAt + accessLen)
      run.lastAccessIndex = accessIndex
    }
  }
  return { lines: verdicts.length, verdicts: Uint8Array.from(verdicts), run: plain ? run : undefined }
}

/** Where `needle` is in buf[from, to), or -1 (Buffer.indexOf alone would search the whole block). */
function indexWithin(buf: Buffer, needle: Buffer, from: number, to: number): number {
  const i = buf.subarray(from, to).indexOf(needle)
  return i === -1 ? -1 : from + i
}

function timeOf(buf: Buffer, from: number, to: number): string | undefined {
  const i = indexWithin(buf, TIME, from, to)
  if (i === -1) return undefined
  const s = i + TIME.length
  const e = indexWithin(buf, QUOTE, s, to)
  return e === -1 ? undefined : buf.toString('utf8', s, e)
}
