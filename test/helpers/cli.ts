// psc-gateway's command line, as a user runs it.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { TYPESCRIPT_NODE_ARGS } from './typescript-node.js'

const ROOT = new URL('../../', import.meta.url).pathname
export interface CliResult {
  code: number | undefined
  stdout: string
  stderr: string
}
export interface CliRun {
  args: string[]
  env?: Record<string, string>
  cwd?: string /** run by the development command line (dev/cli.ts) */
  dev?: boolean
}

/** Many runs in one process (see cli-runner.ts). */
export async function runCliBatch(runs: CliRun[]): Promise<CliResult[]> {
  const env = { ...process.env }
  for (const name of ['PSC_CLIENT_SECRET', 'SESSION_SECRET', 'PSC_CLIENT_SECRET_FILE', 'SESSION_SECRET_FILE'])
    delete env[name]
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...TYPESCRIPT_NODE_ARGS, 'test/helpers/cli-runner.ts', JSON.stringify(runs)],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, env },
  )
  return JSON.parse(stdout) as CliResult[]
}

/** One real process, through a shell (pipes included): exit status and output. */
export async function runShell(command: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      '/bin/bash',
      ['-o', 'pipefail', '-c', command],
      { cwd: ROOT, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : (err as { code?: number }).code, stdout, stderr })
      },
    )
  })
}

export const CLI = `${process.execPath} ${TYPESCRIPT_NODE_ARGS.join(' ')} src/cli.ts`
