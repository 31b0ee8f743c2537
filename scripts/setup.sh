#!/usr/bin/env bash
# Installs what building and testing ice-peer needs on a Debian 12 machine, and
# nothing more. Idempotent: every step checks first, so a second run takes seconds.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# Debian packages: the browsers (Chromium and its driver; Firefox ESR, whose
# driver comes from crates.io below) for tests, coturn as an independent TURN
# server for interop tests, redis-server for the replicated signaling tests.
need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v turnserver >/dev/null || need_apt+=(coturn)
command -v firefox-esr >/dev/null || need_apt+=(firefox-esr)
command -v redis-server >/dev/null || need_apt+=(redis-server)
# The network lab (tests/netlab): namespaces, NAT rules, conntrack flushes.
command -v ip >/dev/null || need_apt+=(iproute2)
command -v nft >/dev/null || need_apt+=(nftables)
command -v conntrack >/dev/null || need_apt+=(conntrack)
if ((${#need_apt[@]})); then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # The package enables a system coturn; tests start their own on loopback.
  systemctl disable --now coturn >/dev/null 2>&1 || true
  pkill -x turnserver 2>/dev/null || true
  # Likewise Redis (only when just installed: a test's own redis-server may be running).
  if [[ " ${need_apt[*]} " == *" redis-server "* ]]; then
    systemctl disable --now redis-server >/dev/null 2>&1 || true
    pkill -x redis-server 2>/dev/null || true
  fi
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The release build's nightly (scripts/build.sh): its rust-src and wasm32 target,
# when a nightly toolchain is installed. Without one, the stable build is used.
if rustup toolchain list | grep -q '^nightly' &&
  ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
  log "rustup: rust-src and wasm32 for the nightly size build"
  rustup component add rust-src --toolchain nightly
  rustup target add wasm32-unknown-unknown --toolchain nightly
fi

# wasm-bindgen-cli must match the wasm-bindgen in Cargo.lock exactly; wasm-pack
# then uses it from PATH instead of trying to download one.
bindgen_version="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' "$root/Cargo.lock")"
if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]]; then
  log "cargo install wasm-bindgen-cli $bindgen_version (takes ~8 minutes once)"
  cargo install -q wasm-bindgen-cli --version "$bindgen_version" --force
fi

if ! command -v geckodriver >/dev/null; then
  log "cargo install geckodriver (takes ~3 minutes once)"
  cargo install -q geckodriver
fi

if ! command -v wasm-pack >/dev/null; then
  log "cargo install wasm-pack (takes ~5 minutes once)"
  cargo install -q wasm-pack
fi

# Node tooling: wasm-opt (binaryen), TypeScript, Playwright's driver for Debian's chromium.
if [[ ! -x "$root/scripts/node_modules/.bin/wasm-opt" || "$root/scripts/package-lock.json" -nt "$root/scripts/node_modules/.package-lock.json" ]]; then
  log "npm ci in scripts/"
  (cd "$root/scripts" && npm ci --no-audit --no-fund --loglevel=error)
fi
log "ready"
