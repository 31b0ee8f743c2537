#!/usr/bin/env bash
# Builds the messenger-app example against pkg/ and runs every e2e test
# (demo page + npm consumer). Exit code = test result.
# Expects pkg/ (scripts/build.sh) and the server binary to be built already;
# ICE_PEER_SERVER_BIN and CHROMIUM_PATH override their default locations.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
app="$root/examples/messenger-app"

log() { printf '\033[1;34m[e2e]\033[0m %s\n' "$*"; }

[[ -f "$root/pkg/ice_peer.js" ]] || { echo "pkg/ is missing: run scripts/build.sh first" >&2; exit 2; }
# The example installs pkg/ as an npm package ("ice-peer": "file:../../pkg"), which needs its package.json
# (wasm-pack writes it unless --no-pack is given).
[[ -f "$root/pkg/package.json" ]] || { echo "pkg/package.json is missing: build pkg/ with wasm-pack without --no-pack" >&2; exit 2; }
[[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]] || { echo "chromium not found (set CHROMIUM_PATH)" >&2; exit 2; }

# npm ci only when node_modules is missing or older than the lockfile.
npm_ci() {
  if [[ ! -f "$1/node_modules/.package-lock.json" || "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]]; then
    log "npm ci in ${1#"$root"/}"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_ci "$here"
npm_ci "$app"

# node_modules/ice-peer is a link to pkg/, so a fresh wasm-pack build is picked up here.
log "messenger-app: typecheck and build"
(cd "$app" && npm run --silent typecheck && npm run --silent build)

log "running e2e tests"
cd "$here"
exec node --test --test-concurrency=1 --test-timeout=180000 ./*.test.mjs
