// The PSC emulator and the demo application, as the CLI loads them: only when a command runs them.
// The production build (tsconfig.build.json, the container image) leaves both out, with
// oidc-provider (a devDependency). The module names are not string literals on purpose: TypeScript
// would otherwise follow the imports and compile both into the build. The interfaces below are
// what the CLI uses of them; test/production/dev-tools.test.ts checks that the real modules fit.

export interface DevEmulator {
  startEmulator(opts: {
    port: number
    host?: string
    practitionersFile?: string
    clients: Array<{ clientId: string; clientSecret: string; redirectUris: string[]; postLogoutRedirectUris?: string[]; serviceName?: string }>
    /** the emulator's CIBA (e-CPS push) behaviour */
    ciba?: { intervalSeconds?: number }
  }): Promise<{ origin: string; issuer: string; discoveryUrl: string; close(): Promise<void> }>
}

export interface DevDemoApp {
  startDemoApp(port: number, host?: string): Promise<{ url: string; close(): Promise<void> }>
}

export class NotInThisBuild extends Error {}

const EMULATOR_MODULE = './emulator/index.js'
const DEMO_MODULE = './demo/app.js'

export const loadEmulator = () => optionalPart<DevEmulator>('emulator', EMULATOR_MODULE)
export const loadDemoApp = () => optionalPart<DevDemoApp>('demo', DEMO_MODULE)

async function optionalPart<T>(part: 'emulator' | 'demo', specifier: string): Promise<T> {
  try {
    return (await import(new URL(specifier, import.meta.url).href)) as T
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      const what = part === 'emulator' ? 'the PSC emulator is' : 'the demo application is'
      throw new NotInThisBuild(`${what} not included in this build (the production image and npm run build leave it out): run it from a development checkout (npm ci, then npx tsx src/cli.ts ${part})`)
    }
    throw err
  }
}
