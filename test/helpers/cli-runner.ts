// Runs several psc-gateway command lines in one process (each CLI start costs a TypeScript load):
// argv lists as JSON in argv[2], environment per run; prints one JSON array of
// { code, stdout, stderr } on the real stdout. Only for commands that end (not serve or demo).
import { COMMANDS } from '../../src/cli/commands.js'
import { runCli } from '../../src/cli/main.js'
import { DEV_COMMANDS } from '../../dev/dev-commands.js'

// dev: the development command line (dev/cli.ts), which adds demo, emulator and demo-app
interface Run {
  args: string[]
  env?: Record<string, string>
  cwd?: string
  dev?: boolean
}
const runs = JSON.parse(process.argv[2]!) as Run[]
const realOut = process.stdout.write.bind(process.stdout)
const realErr = process.stderr.write.bind(process.stderr)
const results: Array<{ code: number | undefined; stdout: string; stderr: string }> = []
for (const run of runs) {
  let stdout = ''
  let stderr = ''
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  }) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk)
    return true
  }) as typeof process.stderr.write
  const saved = { ...process.env }
  const cwd = process.cwd()
  if (run.cwd !== undefined) process.chdir(run.cwd)
  Object.assign(process.env, run.env ?? {})
  let code: number | undefined
  try {
    code = await runCli(run.args, run.dev === true ? [...COMMANDS, ...DEV_COMMANDS] : COMMANDS)
  } catch (err) {
    stderr += `THREW: ${(err as Error).stack}`
    code = -1
  } finally {
    process.chdir(cwd)
    process.stdout.write = realOut
    process.stderr.write = realErr
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  }
  results.push({ code, stdout, stderr })
}
realOut(JSON.stringify(results))
