// Ports for in-process servers without a race: the port is bound (port 0, chosen by the kernel) and
// the bound socket itself is handed to the gateway (Gateway.listen({ handle })), instead of
// picking a free port, closing it, and binding it again later, when another test process may
// have taken it (EADDRINUSE).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection, createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface ReservedPort {
  port: number
  /** for Gateway.listen(reserved) */
  handle: object
  /** closes the socket if nothing took it over */
  release(): void
}

export async function reservePort(): Promise<ReservedPort> {
  const server: Server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as { port: number }
  const handle = (server as unknown as { _handle: object })._handle
  return {
    port,
    handle,
    release: () => {
      if (server.listening) server.close()
    },
  }
}

/** Resolves once something listens on 127.0.0.1:`port`; throws naming `what` after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number, what = 'the server'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => {
        s.end()
        resolve(true)
      })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

// Ports for servers in other processes (redis-server, slapd, nginx, a gateway process...), which
// must be told a port before they bind it. A port is claimed machine-wide first, by creating a file
// named after it (O_EXCL) that holds the claiming process's pid, so no two test processes (of this
// suite or of another checkout's) hand out the same port; a claim whose process has died is taken
// over. Ports come from below the kernel's ephemeral range (32768-60999 by default), where neither
// outgoing connections nor port-0 listeners land, and each is checked bindable before it is handed out.
const CLAIMS = join(tmpdir(), 'psc-gateway-test-ports')
const FIRST = 20_000
const COUNT = 12_000
let cursor = (process.pid * 97) % COUNT
const claimed: string[] = []

export async function freePort(): Promise<number> {
  mkdirSync(CLAIMS, { recursive: true })
  for (let tried = 0; tried < COUNT; tried++) {
    const port = FIRST + (cursor++ % COUNT)
    if (!claim(port)) continue
    if (await bindable(port)) return port
  }
  throw new Error(`no free port between ${FIRST} and ${FIRST + COUNT}`)
}

function claim(port: number): boolean {
  const file = join(CLAIMS, String(port))
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' })
      if (claimed.length === 0)
        process.once('exit', () => {
          for (const f of claimed) rmSync(f, { force: true })
        })
      claimed.push(file)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      if (processAlive(Number(readFileSync(file, 'utf8')))) return false
      rmSync(file, { force: true }) // its process died without releasing it
    }
  }
  return false
}

/** whether a process of this pid runs (EPERM: it does, under another user) */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}
