#!/usr/bin/env bash
# Prints the gzipped size of what the npm package ships (pkg/), the figure
# the size budget is about (≤ 29,400 B gzipped for .wasm + JS glue).
# With --top, also where the bytes go (twiggy on the shipped build with its names).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
[[ -f pkg/ice_peer_bg.wasm ]] || bash scripts/build.sh
gz() { gzip -9c "$1" | wc -c; }
wasm_raw=$(wc -c < pkg/ice_peer_bg.wasm); wasm_gz=$(gz pkg/ice_peer_bg.wasm)
js_raw=$(wc -c < pkg/ice_peer.js); js_gz=$(gz pkg/ice_peer.js)
total=$((wasm_gz + js_gz))
budget=29400
printf '%-22s %9s %9s\n' file raw gzipped
printf '%-22s %9d %9d\n' ice_peer_bg.wasm "$wasm_raw" "$wasm_gz" ice_peer.js "$js_raw" "$js_gz"
printf '%-22s %9s %9d  (budget %d)\n' total "" "$total" "$budget"
# What an app's bundler ships of the glue: the same file minified.
min_gz=$(esbuild pkg/ice_peer.js --bundle --minify --format=esm --log-level=error | gzip -9c | wc -c)
printf '%-22s %9s %9d  (ice_peer.js through esbuild --bundle --minify, as apps ship it: total %d)\n' "" "" "$min_gz" $((wasm_gz + min_gz))
if [[ "${1:-}" == "--top" ]]; then
  # The shipped build again, with a copy that keeps its names (build.sh).
  command -v twiggy >/dev/null || cargo install -q twiggy
  named="$(mktemp -d)"
  ICE_PEER_NAMED_WASM="$named/named.wasm" bash scripts/build.sh >/dev/null
  twiggy top -n 40 "$named/named.wasm"
  rm -rf "$named"
fi
# The budget is a limit, not a figure to print: the test command fails past it.
if ((total > budget)); then
  echo "size.sh: the package is $total B gzipped, over its budget of $budget B" >&2
  exit 1
fi
