#!/usr/bin/env node
// psc-gateway's command line. The commands live in src/cli/ (one file each, listed in
// src/cli/commands.ts); this file only runs them.
import { COMMANDS } from './cli/commands.js'
import { runCli } from './cli/main.js'

runCli(process.argv.slice(2), COMMANDS).then(
  (code) => { if (code !== undefined) process.exitCode = code },
  (err: unknown) => {
    // Not a usage or configuration mistake: a message, never a stack trace on the terminal.
    // Exit now: a half-started server may hold handles open.
    process.stderr.write(`psc-gateway: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  }
)
