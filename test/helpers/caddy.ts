// A real Caddy (Debian's /usr/bin/caddy) for forward-auth tests: `caddy run` on a Caddyfile in a
// temporary directory, its admin endpoint off, no automatic HTTPS, listening on 127.0.0.1 only.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listening } from './listening.js'

export const CADDY_BIN = process.env.CADDY_BIN ?? 'caddy'

export interface RunningCaddy {
  url: string
  /** what caddy printed so far */
  output(): string
  close(): Promise<void>
}

/**
 * `caddyfile` is a generated Caddyfile whose site address (`host {`) is replaced by
 * http://127.0.0.1:port; global options that keep Caddy to itself are added before it.
 */
export async function startCaddy(port: number, caddyfile: string, host: string): Promise<RunningCaddy> {
  const dir = mkdtempSync(join(tmpdir(), 'psc-caddy-'))
  const site = caddyfile.replace(new RegExp(`^${host.replaceAll('.', '\\.')} \\{$`, 'm'), `http://127.0.0.1:${port} {`)
  if (site === caddyfile) throw new Error(`the Caddyfile has no site block "${host} {"`)
  const file = join(dir, 'Caddyfile')
  writeFileSync(
    file,
    `{\n\tadmin off\n\tauto_https off\n\tstorage file_system ${dir}/data\n\tdefault_bind 127.0.0.1\n}\n${site}`,
  )
  const child = spawn(CADDY_BIN, ['run', '--config', file, '--adapter', 'caddyfile'], {
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (c: Buffer) => {
    output += c.toString()
  })
  child.stderr!.on('data', (c: Buffer) => {
    output += c.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  process.once('exit', () => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  await listening(port, child, () => `caddy: ${output}`)
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
