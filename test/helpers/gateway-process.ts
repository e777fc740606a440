// A gateway as operators run it: `psc-gateway serve --config FILE` in a process of its own (through
// the real CLI, with its signal handlers), for reload, drain and multi-replica tests.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLIENT_SECRET } from './stack.js'
import { TYPESCRIPT_NODE_ARGS } from './typescript-node.js'

const ROOT = join(import.meta.dirname, '..', '..')

export interface GatewayProcess {
  child: ChildProcess
  /** the configuration file, which a test may rewrite */
  file: string
  /** everything the process printed (stdout and stderr) */
  output: string[]
  /** sends the signal (SIGTERM by default) and resolves with the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Writes `yaml` to a temporary file and starts `serve` on it (with `env` added); the process dies with the test. */
export function spawnGateway(yaml: string, name = 'gateway', env: Record<string, string> = {}): GatewayProcess {
  const file = join(mkdtempSync(join(tmpdir(), 'psc-gw-')), `${name}.yaml`)
  writeFileSync(file, yaml)
  const child = spawn(
    process.execPath,
    [...TYPESCRIPT_NODE_ARGS, join(ROOT, 'src', 'cli.ts'), 'serve', '--config', file],
    {
      cwd: ROOT,
      env: { ...process.env, TEST_CLIENT_SECRET: CLIENT_SECRET, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const output: string[] = []
  child.stdout!.on('data', (c: Buffer) => output.push(c.toString()))
  child.stderr!.on('data', (c: Buffer) => output.push(c.toString()))
  process.once('exit', () => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  return {
    child,
    file,
    output,
    stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal)
      return exited
    },
  }
}

export { until } from './until.js'
