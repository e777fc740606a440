// A real rsyslog from Debian, started by the test on 127.0.0.1 with its own configuration: TLS
// (RFC 5425, GnuTLS driver, a certificate from a test CA made with openssl) and UDP inputs, every
// message written to a file as "MSGID APP-NAME MSG" lines for the test to read.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../helpers/stack.js'

export interface Rsyslog {
  dir: string
  tlsPort: number
  udpPort: number
  /** RELP (imrelp, Debian's rsyslog-relp), when asked for */
  relpPort: number | undefined
  /** the test CA's certificate (PEM file), to give the gateway */
  caFile: string
  /** messages received so far: { msgid, app, msg } */
  received(): { msgid: string; app: string; msg: string }[]
  stop(): Promise<void>
  start(): Promise<void>
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' })
}

export function makeTestCa(dir: string): { caFile: string; certFile: string; keyFile: string } {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=psc-gateway test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    ],
    dir,
  )
  openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr'],
    dir,
  )
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'san.ext',
      '-out',
      'server.pem',
    ],
    dir,
  )
  return { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') }
}

export async function startRsyslog(options: { relp?: boolean } = {}): Promise<Rsyslog> {
  const dir = mkdtempSync(join(tmpdir(), 'rsyslog-'))
  const { caFile, certFile, keyFile } = makeTestCa(dir)
  const tlsPort = await freePort()
  const udpPort = await freePort()
  const relpPort = options.relp === true ? await freePort() : undefined
  if (
    relpPort !== undefined &&
    !existsSync('/usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so') &&
    !existsSync('/usr/lib/rsyslog/imrelp.so')
  ) {
    throw new Error("rsyslog has no RELP input: install Debian's rsyslog-relp (apt-get install rsyslog-relp)")
  }
  const out = join(dir, 'received.log')
  writeFileSync(
    join(dir, 'rsyslog.conf'),
    `
global(workDirectory="${dir}" maxMessageSize="64k"
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile="${caFile}"
  defaultNetstreamDriverCertFile="${certFile}"
  defaultNetstreamDriverKeyFile="${keyFile}")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="${tlsPort}")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="${udpPort}")
${relpPort === undefined ? '' : `module(load="imrelp")\ninput(type="imrelp" address="127.0.0.1" port="${relpPort}")`}
template(name="raw" type="string" string="%msgid% %app-name% %msg%\\n")
action(type="omfile" file="${out}" template="raw" flushOnTXEnd="on" asyncWriting="off")
`,
  )
  let child: ChildProcess | undefined
  const log: string[] = []
  const rs: Rsyslog = {
    dir,
    tlsPort,
    udpPort,
    relpPort,
    caFile,
    received() {
      if (!existsSync(out)) return []
      return readFileSync(out, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [msgid, app, ...rest] = l.split(' ')
          return { msgid: msgid!, app: app!, msg: rest.join(' ') }
        })
    },
    async start() {
      child = spawn('/usr/sbin/rsyslogd', ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslogd.pid')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      child.stdout!.on('data', (c: Buffer) => log.push(c.toString()))
      child.stderr!.on('data', (c: Buffer) => log.push(c.toString()))
      process.once('exit', () => child?.kill('SIGKILL'))
      // Ready when the TLS port accepts connections and the UDP port is bound.
      const deadline = Date.now() + 20_000
      for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
          import('node:net').then(
            ({ connect }) => {
              const s = connect(tlsPort, '127.0.0.1')
              s.once('connect', () => {
                s.destroy()
                resolve(true)
              })
              s.once('error', () => resolve(false))
            },
            () => resolve(false),
          )
        })
        // UDP has no handshake: datagrams sent before imudp binds are lost, so its socket must be bound too.
        if (ok && udpBound(udpPort)) return
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`rsyslogd did not start: ${log.join('')}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    async stop() {
      const c = child
      child = undefined
      if (c === undefined || c.exitCode !== null) return
      const exited = new Promise((r) => c.once('exit', r))
      c.kill('SIGTERM')
      await exited
    },
  }
  await rs.start()
  return rs
}

/** Whether a socket is bound to 127.0.0.1:port over UDP (a line of /proc/net/udp). */
function udpBound(port: number): boolean {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .some((line) => line.trim().split(/\s+/)[1] === local)
}
