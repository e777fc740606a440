// Headless Debian chromium for the end-to-end tests, driven by playwright-core. Chromium is
// required: when it is missing the test FAILS with what to install (CI installs it); it never skips.
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/** screenshots of the steps, for a person looking at a failed run */
export const SHOTS = join(process.cwd(), 'test-output', 'e2e')
export const STEP_TIMEOUT = 10_000

/** The browser, or the reason there is none (for t.fail). */
export async function launchChromium(): Promise<Browser | string> {
  if (!existsSync(CHROMIUM))
    return `chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH; this test never skips`
  mkdirSync(SHOTS, { recursive: true })
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 20_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
