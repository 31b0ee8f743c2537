#!/usr/bin/env bash
# Builds pkg/ (the npm package) with wasm-pack, optimised for size, and the
# backend server in release mode.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
# --weak-refs: a Peer or PeerManager that JS drops is freed by the
# FinalizationRegistry even if the app never calls free().
# The filter only hides wasm-pack's download notices; with pipefail the
# pipeline's status is wasm-pack's own, so a failed build fails this script
# instead of leaving a stale pkg/ behind a green run.
rm -rf pkg
wasm-pack build --release --target web --weak-refs --out-dir pkg 2>&1 | { grep -v '^\[INFO\]: ⬇️' || true; }
test -f pkg/ice_peer_bg.wasm
