// A real forward proxy for tests: Debian's tinyproxy on 127.0.0.1, its configuration and log in a
// temporary directory. The log lists every forwarded request ("Request (file descriptor N): GET
// http://...") and every CONNECT tunnel.
import { waitForPort } from './ports.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './stack.js'

export const TINYPROXY_BIN = process.env.TINYPROXY_BIN ?? '/usr/bin/tinyproxy'

export interface RunningTinyproxy {
  url: string
  port: number
  /** the requests tinyproxy logged: "GET http://127.0.0.1:1234/path HTTP/1.1", "CONNECT 127.0.0.1:1234 HTTP/1.1" */
  requests(): string[]
  stop(): Promise<void>
  /** start again on the same port (after stop) */
  restart(): Promise<void>
  close(): Promise<void>
}

/**
 * `connectPorts`: the only ports CONNECT may reach (tinyproxy answers 403 to others); default all.
 * `basicAuth`: the proxy asks for these credentials (407 without them).
 */
export async function startTinyproxy(
  opts: { connectPorts?: number[]; basicAuth?: { user: string; password: string } } = {},
): Promise<RunningTinyproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'psc-tinyproxy-'))
  chmodSync(dir, 0o777)
  const port = await freePort()
  const logFile = join(dir, 'tinyproxy.log')
  const conf = join(dir, 'tinyproxy.conf')
  writeFileSync(
    conf,
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 30',
      `LogFile "${logFile}"`,
      'LogLevel Connect',
      'MaxClients 50',
      'Allow 127.0.0.1',
      ...(opts.connectPorts ?? []).map((p) => `ConnectPort ${p}`),
      ...(opts.basicAuth === undefined ? [] : [`BasicAuth ${opts.basicAuth.user} ${opts.basicAuth.password}`]),
      '',
    ].join('\n'),
  )
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn(TINYPROXY_BIN, ['-d', '-c', conf], { stdio: 'ignore' })
    await waitForPort(port, 5000, 'tinyproxy')
  }
  const stop = async () => {
    const c = child
    child = undefined
    if (c === undefined || c.exitCode !== null) return
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve())
      c.kill('SIGTERM')
    })
  }
  await start()
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests() {
      let text = ''
      try {
        text = readFileSync(logFile, 'utf8')
      } catch {
        return []
      }
      return [...text.matchAll(/Request \(file descriptor [0-9]+\): (.+)$/gm)].map((m) => m[1]!)
    },
    stop,
    restart: start,
    async close() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
