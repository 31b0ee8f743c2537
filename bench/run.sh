#!/usr/bin/env bash
# The side-by-side benchmark: ice-peer vs simple-peer 9 (+ fetch) vs a
# hand-written RTCPeerConnection baseline, in one Chromium run against one
# coturn. Prints one table (see README.md). Not part of the tests.
#   bash bench/run.sh            BENCH_CALLS=40 bash bench/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
source "$root/scripts/env.sh"
[[ -f "$root/pkg/ice_peer_bg.wasm" ]] || bash "$root/scripts/build.sh"
if [[ ! -f "$here/node_modules/.package-lock.json" || "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
cd "$here"
exec node bench.mjs
