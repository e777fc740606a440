// The block-at-a-time work of `audit verify`, which runs on the worker threads (block-pipeline.ts):
// check every line's mac in a block of bytes (one HMAC per line, the costly part) and tell whether
// the block's lines simply follow each other, so that the verifier only has to take note of the
// block's last line. Anything unusual is left to the verifier, line by line.
import { createHmac } from 'node:crypto'
import { type KeyRing, Verdict } from './line-check.js'

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
