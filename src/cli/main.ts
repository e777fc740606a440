// The dispatcher: psc-gateway <command> [options], --help and --version, "did you mean".
import { readFileSync } from 'node:fs'
import { AuditUsageError } from './audit-command.js'
import { closest } from '../config/closest.js'
import { commandHelp, parseCommandArgs, UsageError, wantsHelp, type Command } from './command.js'
import { ConfigRefused } from './config-refused.js'
import { exitQuietlyOnClosedPipe } from './output.js'

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

export function usage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2
  return `Usage: psc-gateway <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

  psc-gateway <command> --help   the options of a command
  psc-gateway --version          the version
`
}

/** Runs the command line; resolves with the exit code, or undefined while a server runs. */
export async function runCli(argv: readonly string[], commands: readonly Command[]): Promise<number | undefined> {
  exitQuietlyOnClosedPipe()
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const about = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined
    process.stdout.write(about !== undefined ? commandHelp(about) : usage(commands))
    return 0
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`psc-gateway ${version()}\n`)
    return 0
  }
  const command = commands.find((c) => c.name === name)
  if (command === undefined) {
    const close = closest(
      name.replace(/^-+/, ''),
      commands.map((c) => c.name),
    )
    process.stderr.write(
      `psc-gateway: unknown command "${name}"${close ? ` (did you mean "${close}"?)` : ''}\n\n${usage(commands)}`,
    )
    return 2
  }
  if (wantsHelp(rest)) {
    process.stdout.write(commandHelp(command))
    return 0
  }
  try {
    return await command.run(parseCommandArgs(command, rest))
  } catch (err) {
    if (err instanceof UsageError || err instanceof AuditUsageError) {
      process.stderr.write(`psc-gateway ${command.name}: ${err.message}\n\n${commandHelp(command)}`)
      return 2
    }
    if (err instanceof ConfigRefused) {
      process.stderr.write(`psc-gateway: ${err.message}\n`)
      return 1
    }
    throw err
  }
}

/** Runs the command line as a process: sets the exit code, or prints an unexpected error and exits 1. */
export function runAsProcess(argv: readonly string[], commands: readonly Command[]): void {
  runCli(argv, commands).then(
    (code) => {
      if (code !== undefined) process.exitCode = code
    },
    (err: unknown) => {
      // Not a usage or configuration mistake: a message, never a stack trace on the terminal.
      // Exit now: a half-started server may hold handles open.
      process.stderr.write(`psc-gateway: ${err instanceof Error ? err.message : String(err)}\n`)
      process.exit(1)
    },
  )
}
