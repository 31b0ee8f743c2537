# Sourced by the scripts: tools on PATH (cargo's, and wasm-opt from npm binaryen).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$root/scripts/node_modules/.bin:$HOME/.cargo/bin:$PATH"
