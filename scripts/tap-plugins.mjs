// Run by `npm test` before tap. tap builds its Test class with the plugins that package.json's
// "tap.plugin" names (here without @tapjs/typescript and @tapjs/mock: Node runs the TypeScript itself, see test/helpers/typescript.mjs). A fresh
// `npm ci` installs tap's default set, and tap rebuilds it during its first run only after it has
// chosen that run's loaders: the first suite after an install then loads ts-node's and the mock
// loaders into every test process (measured on Node 20: 11.4 min instead of 7).
// Building first, only when the set differs (about 15 s, once), avoids it.
import { spawnSync } from 'node:child_process'
import { TapConfig } from '@tapjs/config'
import { signature } from '@tapjs/test'

const config = await TapConfig.load()
if (config.pluginSignature !== signature) {
  process.stderr.write('tap: building its plugin set as package.json configures it (once after an install)\n')
  const result = spawnSync('npx', ['tap', 'build'], { stdio: 'inherit' })
  process.exit(result.status ?? 1)
}
