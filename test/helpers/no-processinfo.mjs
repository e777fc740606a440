// Loaded through NODE_OPTIONS (package.json "tap.test-env") before the --import of @tapjs/processinfo
// that tap always gives a test process. processinfo records every module the process loads, for
// coverage and `tap --changed`, neither of which this suite uses; it costs about 0.6 CPU s per test
// process and tap has no setting to leave it out, so here its import resolves to an empty module.
import { registerHooks } from 'node:module'

const PROCESSINFO_IMPORT = /[/\\]@tapjs[/\\]processinfo[/\\]dist[/\\]esm[/\\]import\.mjs$/
const EMPTY_MODULE = 'data:text/javascript,'

// tap may name it twice (NODE_OPTIONS and the command line): every time, so nothing deregisters
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context)
    if (!PROCESSINFO_IMPORT.test(resolved.url)) return resolved
    return { url: EMPTY_MODULE, format: 'module', shortCircuit: true }
  },
})

// The processes a test starts (gateways, CLIs) inherit neither this hook nor processinfo.
const NOT_FOR_CHILDREN = /(^|\s)"?--import=[^\s"]*(?:no-processinfo\.mjs|@tapjs[/\\]processinfo[^\s"]*)"?(?=\s|$)/g
if (process.env.NODE_OPTIONS !== undefined) {
  const rest = process.env.NODE_OPTIONS.replace(NOT_FOR_CHILDREN, '').trim()
  if (rest === '') delete process.env.NODE_OPTIONS
  else process.env.NODE_OPTIONS = rest
}
