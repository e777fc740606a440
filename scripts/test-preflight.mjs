// Before the suite: checks that the runtime is Node 24 and that every real server the tests start is
// installed, and fetches helm for the chart tests. A missing Debian package is installed when running
// as root with apt-get (a fresh CI or developer machine); otherwise the check names every missing
// package and the one line that installs them, and the suite does not start (a test never skips for
// a missing server: it would hide what CI runs).
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, writeFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

const major = Number(process.versions.node.split('.')[0])
if (major !== 24) {
  console.error(
    `test preflight: the suite runs on Node.js 24, the supported runtime; this is ${process.version}. Run it with \`scripts/dev test\`, which brings Node 24.`,
  )
  process.exit(1)
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    try {
      accessSync(join(dir, name), constants.X_OK)
      return true
    } catch {}
  }
  return false
}
const anyOf = (...paths) => paths.some((p) => existsSync(p))

/** Debian package → whether what the tests run from it is here */
const needs = {
  chromium: () => (process.env.CHROMIUM_PATH ? existsSync(process.env.CHROMIUM_PATH) : existsSync('/usr/bin/chromium')),
  'redis-server': () => onPath('redis-server') || existsSync('/usr/bin/redis-server'),
  slapd: () => existsSync('/usr/sbin/slapd'),
  'ldap-utils': () => onPath('ldapsearch') || existsSync('/usr/bin/ldapsearch'),
  'nginx-light': () => existsSync('/usr/sbin/nginx'),
  caddy: () => onPath('caddy') || existsSync('/usr/bin/caddy'),
  haproxy: () => existsSync('/usr/sbin/haproxy'),
  tinyproxy: () => onPath('tinyproxy') || existsSync('/usr/bin/tinyproxy') || existsSync('/usr/sbin/tinyproxy'),
  rsyslog: () => existsSync('/usr/sbin/rsyslogd'),
  'rsyslog-relp': () => anyOf('/usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so', '/usr/lib/rsyslog/imrelp.so'),
  'rsyslog-gnutls': () => anyOf('/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so', '/usr/lib/rsyslog/lmnsd_gtls.so'),
  openssl: () => onPath('openssl') || existsSync('/usr/bin/openssl'),
  python3: () => onPath('python3'),
  systemd: () => onPath('systemd-analyze') || existsSync('/usr/bin/systemd-analyze'),
}

let missing = Object.keys(needs).filter((pkg) => !needs[pkg]())
if (missing.length > 0) {
  const line = `apt-get install -y --no-install-recommends ${missing.join(' ')}`
  const root = typeof process.getuid === 'function' && process.getuid() === 0
  if (root && onPath('apt-get')) {
    console.error(`test preflight: installing the Debian packages the tests need: ${missing.join(' ')}`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    // slapd and the others would start system daemons on install: the tests start their own on 127.0.0.1
    const policy = '/usr/sbin/policy-rc.d'
    const hadPolicy = existsSync(policy)
    if (!hadPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 })
    try {
      for (const args of [
        ['update', '-qq'],
        ['install', '-y', '-qq', '--no-install-recommends', ...missing],
      ]) {
        const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env })
        if (r.status !== 0) {
          console.error(`test preflight: apt-get ${args[0]} failed (exit ${r.status})`)
          process.exit(1)
        }
      }
    } finally {
      if (!hadPolicy) rmSync(policy, { force: true })
    }
    missing = Object.keys(needs).filter((pkg) => !needs[pkg]())
  }
  if (missing.length > 0) {
    console.error(
      `test preflight: the tests start real servers that are not installed: ${missing.join(', ')}.\nInstall them with:\n  sudo ${line}`,
    )
    process.exit(1)
  }
}

// helm is not in Debian: scripts/fetch-helm.sh caches a static one under .cache/helm/, where the
// chart tests look for it (HELM_BIN or a helm on PATH still win)
const helm = spawnSync(join(root, 'scripts', 'fetch-helm.sh'), {
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
})
if (helm.status !== 0) {
  console.error('test preflight: could not fetch helm for the chart tests (scripts/fetch-helm.sh failed)')
  process.exit(1)
}
