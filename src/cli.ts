#!/usr/bin/env node
// psc-gateway's command line. The commands live in src/cli/ (one file each, listed in
// src/cli/commands.ts); this file only runs them. The development commands (demo, emulator,
// demo-app) are dev/cli.ts's.
import { COMMANDS } from './cli/commands.js'
import { runAsProcess } from './cli/main.js'

runAsProcess(process.argv.slice(2), COMMANDS)
