// Paths an upstream that decodes percent-encoding twice would read differently from the gateway.
// The gateway authorises the path decoded once (policy/path.ts); "%252e%252e" stays "%252e%252e"
// for it but becomes ".." in an application that decodes again. Pure.

const HEX = /^[0-9A-Fa-f]{2}$/

/** Whether the (normalised) path carries an encoded percent sign followed by two hex digits: "%25" + "2e", "2f", "5c", "25"... */
export function encodedTwice(path: string): boolean {
  for (let i = path.indexOf('%25'); i !== -1; i = path.indexOf('%25', i + 3)) {
    if (HEX.test(path.slice(i + 3, i + 5))) return true
  }
  return false
}
