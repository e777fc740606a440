// The hash chain that makes an audit file tamper-evident. Every line is one JSON object:
//
//   {"log":"audit","seq":12,"kid":"<key id>",<the event's fields>,"prev":"<mac of line seq 11>","mac":"<mac of this line>"}
//
// mac = base64url(HMAC-SHA256(key, the line's exact text up to `,"mac":` followed by `}`)), so
// each line is authenticated on its own (an edit or a line forged without the key is caught on that
// very line), and `prev` links it to the line before (a removal, a reordering or a splice from
// another chain is caught where the link breaks). `seq` counts lines within the chain, so a break
// says how many lines are missing. Each opening of a file (start, SIGUSR2, rotation) writes a
// signed `chain-start` line with seq 0, prev "" and `previous` = {seq, mac} of the last line written
// before (in the previous file, or earlier in the same file), so rotated files link up and the
// removal of a file's last lines shows in the next file. `kid` names the key (keyIdOf): a restart
// with another key writes its chain-start with reason "key-change", signed by the new key and
// naming the previous line and its key id, so one chain spans keys. Verification: verify.ts.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { ChainStart } from './event-schema.js'
import { AUDIT_SCHEMA_VERSION } from './schema-version.js'

const MAC_SUFFIX = /,"mac":"([A-Za-z0-9_-]{43})"\}$/

export interface ChainPosition {
  seq: number
  mac: string
  /** key id of the key that signed the line (absent on lines written before key ids) */
  kid?: string
}

/**
 * The key id written on every line: a short HMAC of a fixed label under the key. It names the key
 * (verify picks the key by it, and a restart with another key shows) and says nothing about it.
 */
export function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update('psc-gateway audit key id').digest('base64url').slice(0, 8)
}

export function macOf(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url')
}

/** `,"mac":"` + 43 characters + `"}` */
const SUFFIX_LENGTH = 53

/** Splits a line into the text its mac covers and the mac; undefined when it has no mac field. */
export function splitMac(line: string): { body: string; mac: string } | undefined {
  // Fixed offsets first (this runs on every line of a million-line verify), the regex to confirm.
  const at = line.length - SUFFIX_LENGTH
  if (at < 0 || !line.startsWith(',"mac":"', at) || !line.endsWith('"}')) return undefined
  const m = MAC_SUFFIX.exec(line.slice(at))
  if (m === null) return undefined
  return { body: `${line.slice(0, at)}}`, mac: m[1]! }
}

export function macMatches(key: Buffer, body: string, mac: string): boolean {
  const expected = Buffer.from(macOf(key, body))
  const given = Buffer.from(mac)
  return expected.length === given.length && timingSafeEqual(expected, given)
}

/**
 * Seals serialised events into chained lines. Not thread-safe across writers: one per destination.
 * `position` is what the last line written carries; `commit` only after the bytes are written, so
 * a failed write can be retried with the same seq numbers.
 */
export class ChainSealer {
  #key: Buffer
  readonly kid: string
  /** the last line written (committed) */
  position: ChainPosition | null

  constructor(key: Buffer, previous: ChainPosition | null = null) {
    this.#key = key
    this.kid = keyIdOf(key)
    this.position = previous
  }

  /** Whether this key signed `line` (a line read back from the file at a restart). */
  signed(line: string): boolean {
    const split = splitMac(line)
    return split !== undefined && macMatches(this.#key, split.body, split.mac)
  }

  /** A chain-start line and the position after it. */
  start(file: string, reason: ChainStart['reason'], now: Date = new Date()): { text: string; after: ChainPosition } {
    const marker: ChainStart = {
      v: AUDIT_SCHEMA_VERSION,
      time: now.toISOString(),
      event: 'chain-start',
      file,
      reason,
      pid: process.pid,
      previous:
        this.position === null
          ? null
          : {
              seq: this.position.seq,
              mac: this.position.mac,
              ...(this.position.kid !== undefined && { kid: this.position.kid }),
            },
    }
    return this.#seal(`{"log":"audit","seq":0,"kid":"${this.kid}",${JSON.stringify(marker).slice(1, -1)},"prev":""}`, 0)
  }

  /** Seals `body` (a JSON object's text, as JSON.stringify gives it) after `after`. */
  seal(body: string, after: ChainPosition): { text: string; after: ChainPosition } {
    const seq = after.seq + 1
    return this.#seal(
      `{"log":"audit","seq":${seq},"kid":"${this.kid}",${body.slice(1, -1)},"prev":"${after.mac}"}`,
      seq,
    )
  }

  #seal(unsigned: string, seq: number): { text: string; after: ChainPosition } {
    const mac = macOf(this.#key, unsigned)
    return { text: `${unsigned.slice(0, -1)},"mac":"${mac}"}\n`, after: { seq, mac, kid: this.kid } }
  }
}

/** The last complete chained line of a file's tail, to continue the chain across a restart. */
export function lastPositionIn(tail: string): (ChainPosition & { line: string }) | null {
  const lines = tail.split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!
    const split = splitMac(line)
    if (split === undefined) continue
    const m = /^\{"log":"audit","seq":(\d+),(?:"kid":"([A-Za-z0-9_-]{8})",)?/.exec(line)
    if (m === null) continue
    return { seq: Number(m[1]), mac: split.mac, ...(m[2] !== undefined && { kid: m[2] }), line }
  }
  return null
}
