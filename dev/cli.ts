// The development command line (`npm start`, `npx tsx dev/cli.ts <command>`): the product's
// commands plus those that run the local stand-ins (dev/dev-commands.ts): demo, emulator, demo-app.
import { COMMANDS } from '../src/cli/commands.js'
import { runAsProcess } from '../src/cli/main.js'
import { DEV_COMMANDS } from './dev-commands.js'

runAsProcess(process.argv.slice(2), [...COMMANDS, ...DEV_COMMANDS])
