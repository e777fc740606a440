// A real nginx (Debian's /usr/sbin/nginx) for forward-auth tests: started in the foreground with a
// prefix in a temporary directory (no root paths), listening on 127.0.0.1 only.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx'

export interface RunningNginx {
  url: string
  dir: string
  /** error.log so far (for messages) */
  errorLog(): string
  close(): Promise<void>
}

/** `server` is the body of one server block; its listen line is added (127.0.0.1:port). */
export async function startNginx(port: number, server: string): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'psc-nginx-'))
  mkdirSync(join(dir, 'logs'))
  mkdirSync(join(dir, 'tmp'))
  const conf = `
daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/logs/error.log info;
pid ${dir}/nginx.pid;
events { worker_connections 128; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
${server}
  }
}
`
  writeFileSync(join(dir, 'nginx.conf'), conf)
  const child: ChildProcess = spawn(
    NGINX_BIN,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs', 'error.log')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const errorLog = () => {
    try {
      return readFileSync(join(dir, 'logs', 'error.log'), 'utf8')
    } catch {
      return ''
    }
  }
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}\n${errorLog()}`)
    if (await accepts(port)) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`nginx did not listen on ${port}: ${stderr}\n${errorLog()}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    errorLog,
    async close() {
      if (child.exitCode === null) child.kill('SIGQUIT')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/**
 * The body of the `server { }` block of a generated configuration (psc-gateway forward-auth nginx),
 * without its listen line (startNginx writes its own).
 */
export function serverBody(generated: string): string {
  const start = generated.indexOf('server {')
  const end = generated.lastIndexOf('}')
  if (start === -1 || end <= start) throw new Error('the generated nginx configuration has no server block')
  return generated
    .slice(start + 'server {'.length, end)
    .replace(/^\s*listen .*$/m, '')
    .replace(/^\s*server_name .*$/m, '')
}
