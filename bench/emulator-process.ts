// The PSC emulator in a process of its own, for the benches: oidc-provider keeps an
// AsyncLocalStorage, which turns on Node's async hooks for every promise of the process it runs in.
// In the gateway's process it would slow every request, and production never has it there.
// Usage: emulator-process.ts CLIENT_ID CLIENT_SECRET PUBLIC_URL; prints `READY {"issuer": ...}`.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { startEmulator } from '../dev/emulator/index.js'
import { ROOT } from './harness.js'

if (process.argv[2] === '--child') {
  const [clientId, clientSecret, publicUrl] = process.argv.slice(3) as [string, string, string]
  const emulator = await startEmulator({
    port: 0,
    clients: [
      {
        clientId,
        clientSecret,
        redirectUris: [`${publicUrl}/_psc/callback`],
        postLogoutRedirectUris: [`${publicUrl}/_psc/logged-out`],
      },
    ],
  })
  process.stdout.write(`READY ${JSON.stringify({ issuer: emulator.issuer })}\n`)
  process.stdin.on('end', () => process.exit(0))
  process.stdin.resume()
}

/** Starts the emulator in a child process (ended with ours); resolves with its issuer. */
export function startEmulatorProcess(
  clientId: string,
  clientSecret: string,
  publicUrl: string,
): Promise<{ issuer: string; stop(): void }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench', 'emulator-process.ts'), '--child', clientId, clientSecret, publicUrl],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  process.on('exit', () => child.kill('SIGKILL'))
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString()
      const m = /READY (.*)/.exec(out)
      if (m) resolve({ issuer: (JSON.parse(m[1]!) as { issuer: string }).issuer, stop: () => child.stdin.end() })
    })
    child.once('exit', (code) => reject(new Error(`emulator process exited (${code})`)))
  })
}
