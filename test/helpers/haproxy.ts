// A real HAProxy (Debian's /usr/sbin/haproxy, with Lua) for forward-auth tests: the generated
// configuration and Lua action in a temporary directory, in the foreground, on 127.0.0.1 only.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LUA_PATH } from '../../src/cli/forward-auth/haproxy.js'
import { listening } from './listening.js'

export const HAPROXY_BIN = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy'

export interface RunningHaproxy {
  url: string
  output(): string
  close(): Promise<void>
}

/** `generated` and `lua` as psc-gateway forward-auth haproxy / haproxy-lua print them. */
export async function startHaproxy(port: number, generated: string, lua: string): Promise<RunningHaproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'psc-haproxy-'))
  writeFileSync(join(dir, 'psc-forward-auth.lua'), lua)
  const defaults = 'defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\n'
  const cfg = generated
    .replaceAll(LUA_PATH, join(dir, 'psc-forward-auth.lua'))
    .replace(/^(\s*)bind .*$/m, `$1bind 127.0.0.1:${port}`)
    .replace('frontend psc_public', `${defaults}frontend psc_public`)
  if (!cfg.includes(`bind 127.0.0.1:${port}`)) throw new Error('the generated HAProxy configuration has no bind line')
  const file = join(dir, 'haproxy.cfg')
  writeFileSync(file, cfg)
  const child = spawn(HAPROXY_BIN, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] })
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
  await listening(port, child, () => `haproxy: ${output}\n${cfg}`)
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
