// Every section of the configuration, in file order: validateConfig runs their checks,
// convertConfig puts their converted parts together (../convert.ts).
import { server } from './server.js'
import { psc } from './psc.js'
import { session } from './session.js'
import { upstreams } from './upstreams.js'
import { routes } from './routes.js'
import { headers } from './headers.js'
import { lifecycle } from './lifecycle.js'
import { limits } from './limits.js'
import { audit } from './audit.js'
import { log } from './log.js'
import { assertion } from './assertion.js'
import { accounts } from './accounts.js'
import { charter } from './charter.js'
import { branding } from './branding.js'
import { declaration } from './declaration.js'
import { workers } from './workers.js'

export const SECTIONS = [
  server,
  workers,
  psc,
  session,
  upstreams,
  routes,
  headers,
  lifecycle,
  limits,
  audit,
  assertion,
  log,
  accounts,
  charter,
  branding,
  declaration,
] as const
