#!/usr/bin/env bash
# The network lab: two clients behind NAT routers calling each other through
# the reference backend, coturn and the embedded TURN server, in network
# namespaces (see topology.sh). Needs root, iproute2, nftables, conntrack,
# coturn, Debian's chromium, openssl and certutil (scripts/setup.sh installs them).
#
#   bash tests/netlab/run.sh                 every scenario
#   bash tests/netlab/run.sh cone-stun-only  only these
#
# Everything the lab made is removed on exit, however it exits.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/scripts/env.sh"

[[ $EUID -eq 0 ]] || { echo "the network lab needs root (network namespaces)" >&2; exit 1; }
for tool in ip nft conntrack turnserver /usr/bin/chromium node openssl certutil; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/setup.sh" >&2; exit 1; }
done
[[ -x "${ICE_PEER_SERVER_BIN:-$root/target/debug/ice-peer-server}" ]] || (cd "$root" && cargo build -q -p ice-peer-server)
[[ -f "$root/pkg/ice_peer_bg.wasm" ]] || bash "$root/scripts/build.sh"

lab_pid=""
# Runs on every exit. Nothing in it may stop it early (this script runs under
# set -e, and a failing `a && b` at the end of a function would): the
# teardown always runs, and the lab's own status is kept.
cleanup() {
  local status=$?
  if [[ -n "$lab_pid" ]]; then kill -9 "$lab_pid" 2>/dev/null || true; fi
  bash "$here/topology.sh" down || true
  if bash "$here/topology.sh" exists; then
    echo "network lab: namespaces left behind" >&2
    exit 1
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bash "$here/topology.sh" up
# In the background and waited for, so that a signal runs the cleanup at once
# (bash defers traps while a foreground child runs).
node "$here/lab.mjs" "$@" &
lab_pid=$!
wait "$lab_pid"
