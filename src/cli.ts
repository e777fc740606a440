#!/usr/bin/env node
// psc-gateway's command line. The commands live in src/cli/ (one file each, listed in
// src/cli/commands.ts); this file only runs them.
import { COMMANDS } from './cli/commands.js'
import { runCli } from './cli/main.js'
import { NotInThisBuild } from './dev-tools.js'

runCli(process.argv.slice(2), COMMANDS).then(
  (code) => { if (code !== undefined) process.exitCode = code },
  (err: unknown) => {
    // The emulator or the demo asked of a production build: said plainly, exit 2 (a usage matter).
    if (err instanceof NotInThisBuild) {
      process.stderr.write(`psc-gateway: ${err.message}\n`)
      process.exit(2)
    }
    // Not a usage or configuration mistake: a message, never a stack trace on the terminal.
    // Exit now: a half-started server may hold handles open.
    process.stderr.write(`psc-gateway: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  }
)
