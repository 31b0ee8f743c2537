#!/usr/bin/env bash
# Starts the demo: builds pkg/ and runs the reference backend in dev mode with
# its embedded TURN server (no account, no network needed). Open the URL it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
bash scripts/build.sh
exec cargo run --release -p ice-peer-server -- --dev "$@"
