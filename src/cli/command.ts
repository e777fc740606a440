// What a command of the CLI is, and its argument parser: clear messages that name the option and
// what was expected, a "did you mean" for a mistyped option, and --help that does nothing else.
import { closest } from '../config/closest.js'

export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  multiple?: boolean
  /** the value's placeholder in the help, e.g. FILE */
  value?: string
  description: string
}

export interface ParsedArgs {
  values: Record<string, string | string[] | boolean | undefined>
  positionals: string[]
}

export interface Command {
  name: string
  /** one line, for the command list */
  summary: string
  /** what follows the command name in the usage line, e.g. "--config FILE" */
  usage: string
  /** more lines of help after the summary */
  details?: string
  options: Record<string, OptionSpec>
  /** positional arguments accepted (default none) */
  positionals?: boolean
  /** resolves with the exit code (undefined: the command keeps running, e.g. a server) */
  run(args: ParsedArgs): Promise<number | undefined>
}

/** A mistake on the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message)
  }
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help and exit' }

export function optionsOf(command: Command): Record<string, OptionSpec> {
  return { ...command.options, help: HELP }
}

/** true when --help or -h is among the arguments (before a "--"). */
export function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false
    if (a === '--help' || a === '-h') return true
  }
  return false
}

export function parseCommandArgs(command: Command, args: readonly string[]): ParsedArgs {
  const options = optionsOf(command)
  const names = Object.keys(options)
  const byShort = new Map(
    Object.entries(options)
      .filter(([, o]) => o.short)
      .map(([n, o]) => [o.short!, n]),
  )
  const values: ParsedArgs['values'] = {}
  const positionals: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '--') {
      positionals.push(...args.slice(i + 1))
      break
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg)
      continue
    }
    let name: string
    let inline: string | undefined
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
      inline = eq === -1 ? undefined : arg.slice(eq + 1)
    } else {
      const short = byShort.get(arg.slice(1, 2))
      if (short === undefined || arg.length > 2)
        throw new UsageError(
          `unknown option "${arg}" for ${command.name}${suggest(arg.replace(/^-+/, ''), names)}`,
          command,
        )
      name = short
    }
    const spec = options[name]
    if (spec === undefined)
      throw new UsageError(`unknown option "--${name}" for ${command.name}${suggest(name, names)}`, command)
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`, command)
      values[name] = true
      continue
    }
    const value = inline ?? args[++i]
    if (value === undefined || (inline === undefined && value.startsWith('--'))) {
      throw new UsageError(`--${name} needs a value${spec.value ? ` (${spec.value})` : ''}`, command)
    }
    if (spec.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value]
    else values[name] = value
  }
  if (positionals.length > 0 && !command.positionals) {
    throw new UsageError(
      `${command.name} takes no argument, got "${positionals[0]}"${positionals[0]!.includes('.yaml') || positionals[0]!.includes('.yml') ? ` (did you mean --config ${positionals[0]}?)` : ''}`,
      command,
    )
  }
  return { values, positionals }
}

function suggest(word: string, candidates: readonly string[]): string {
  const close = closest(word, candidates)
  return close === undefined ? ` (see --help)` : ` (did you mean --${close}?)`
}

/** The help of one command. */
export function commandHelp(command: Command): string {
  const options = optionsOf(command)
  const left = Object.entries(options).map(
    ([name, o]) => `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`,
  )
  const width = Math.max(...left.map((l) => l.length)) + 2
  const lines = Object.values(options).map((o, i) => `  ${left[i]!.padEnd(width)}${o.description}`)
  return `Usage: psc-gateway ${command.name}${command.usage ? ` ${command.usage}` : ''}\n\n${command.summary}\n${command.details ? `\n${command.details}\n` : ''}\nOptions:\n${lines.join('\n')}\n`
}

/** A string option, or a usage error naming it. */
export function required(args: ParsedArgs, name: string, command: Command): string {
  const v = args.values[name]
  if (typeof v !== 'string' || v === '')
    throw new UsageError(
      `${command.name} needs --${name}${command.options[name]?.value ? ` ${command.options[name]!.value}` : ''}`,
      command,
    )
  return v
}
