#!/usr/bin/env bash
# Runs every test of the project, installing what is missing first:
#   lint → the JS modules (tsc --checkJs, node unit tests) → native tests
#   (core + server) → pkg/ build → TypeScript contract check
#   → headless-browser suites in Chromium and Firefox (wasm-bindgen-test,
#     fixture server, coturn)
#   → end-to-end (demo page and npm example app, Playwright)
#   → network lab (two Chromiums behind NAT routers in network namespaces)
#   → size report.
# Exit code: non-zero as soon as a stage fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

stage() { printf '\n\033[1;35m==== %s\033[0m\n' "$*"; }
started=$SECONDS

stage "lint: rustfmt and clippy (native and wasm32), eslint"
cargo fmt --all --check
cargo clippy -q --workspace --all-targets -- -D warnings
cargo clippy -q -p ice-peer --target wasm32-unknown-unknown --all-targets -- -D warnings
eslint -c scripts/eslint.config.mjs src/web/js tests/*.js tests/support/*.js tests/support/*.mjs scripts/*.mjs

stage "JS modules: type check (tsc --checkJs --strict) and unit tests (node --test)"
tsc -p src/web/js/tsconfig.json
node --test src/web/js/test/

stage "native tests: pure core (unit + property) and the reference backend"
cargo test --workspace

stage "build pkg/ (wasm-pack, release, wasm-opt -Oz)"
bash scripts/build.sh

stage "TypeScript: pkg/ice_peer.d.ts against the contract (tsc --strict)"
tsc -p tests/types/tsconfig.json
echo "contract types OK"

stage "browser tests: headless Chromium"
bash scripts/browser-tests.sh

stage "browser tests: headless Firefox (all but the leak cycles, which drive Chrome's gc())"
ICE_PEER_BROWSER=firefox bash scripts/browser-tests.sh web_ice_servers web_ice_errors web_peers web_peers_servers web_peers_outage web_peers_negotiation web_preflight

stage "end-to-end: demo page and messenger-app example"
# The debug build that `cargo test` just made; a release build would double the compile time.
ICE_PEER_SERVER_BIN="$PWD/target/debug/ice-peer-server" bash tests/e2e/run.sh

stage "network lab: calls across NAT routers, firewalls that drop UDP or allow only TCP 443 (TURN over TLS), TURN failover (namespaces, root)"
bash tests/netlab/run.sh

stage "size of the npm package"
bash scripts/size.sh
echo "all stages passed in $((SECONDS - started)) s"
