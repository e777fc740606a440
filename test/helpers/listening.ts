// Waits until a proxy process started by a test accepts connections on 127.0.0.1:port.
import type { ChildProcess } from 'node:child_process'
import { connect } from 'node:net'

export async function listening(
  port: number,
  child: ChildProcess,
  why: () => string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}): ${why()}`)
    if (await accepts(port)) return
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`did not listen on ${port}: ${why()}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}
