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
#
# With the nightly toolchain (and its rust-src), std is rebuilt for size with
# panics that abort at once: no panic messages or formatting machinery in the
# wasm (-3.5 KB gzipped). Without it (or with ICE_PEER_STABLE=1) the stable
# toolchain builds the same package, a little larger.
rm -rf pkg
if [[ -z "${ICE_PEER_STABLE:-}" ]] && rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
  echo "build.sh: $(rustc +nightly --version), -Zbuild-std with panic=immediate-abort"
  export RUSTUP_TOOLCHAIN=nightly
  # Also: no file/line/column strings for panic locations (nothing prints
  # them under immediate-abort), and the MIR inliner, which -Copt-level=z
  # leaves off, on. Its threshold and LLVM's inline threshold were swept
  # together (the figures are in docs/size.md); the optimum moves as the
  # code changes, so sweep again after large changes.
  # -Zfmt-debug=none, -Zshare-generics, -Zmerge-functions and
  # -Zmir-opt-level=3 changed nothing; opt-level "s" was larger.
  # Without the reference-types feature (std rebuilt without it too),
  # wasm-bindgen keeps JS values in the glue's heap array instead of an
  # externref table: no externref shim around every export and import
  # (-0.7 KB gzipped in all, the glue +0.06 KB of it). -Ctarget-cpu=mvp
  # was larger (+0.9 KB: memcpy loops without bulk-memory); also turning
  # off multivalue, +30 B.
  export RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zinline-mir=yes -Zinline-mir-threshold=150 -Cllvm-args=-inline-threshold=15 -Ctarget-feature=-reference-types"
  # std's optimize_for_size feature picks its smaller algorithms (sorting,
  # formatting of integers): -0.4 KB gzipped.
  extra=(. -- -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size)
  # Its own target dir: the flags differ from every other build's.
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}/nightly-size"
else
  echo "build.sh: $(rustc --version) (stable; install the nightly's rust-src for the smaller build)"
  extra=()
fi
wasm-pack build --release --target web --weak-refs --out-dir pkg "${extra[@]}" 2>&1 | { grep -v '^\[INFO\]: ⬇️' || true; }
test -f pkg/ice_peer_bg.wasm

# The table entries wasm-bindgen leaves for closures nothing can call, and
# JSPI's unused waker, pointed at one trap so that wasm-opt deletes them
# (see the script for why they are dead). It needs the names, so wasm-pack
# runs no wasm-opt of its own (Cargo.toml).
node scripts/prune-table.mjs pkg/ice_peer_bg.wasm
# The wasm features the module may use (the ones stable Rust's wasm32 target
# enables), for every wasm-opt run below.
features=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)
# wasm-opt inlines every function with one caller, whatever its size; rustc
# has already inlined what pays off (its thresholds are swept with this one),
# and what is left is mostly large bodies that inlining only copies into
# their caller's locals and blocks. Only tiny ones now (-0.4 KB gzipped;
# docs/size.md has the sweep).
inlining=(--one-caller-inline-max-function-size 5)
# Two wasm-opt rounds, from $1 to $2, with any further flags after them.
# --low-memory-unused lets constant address offsets fold into loads and
# stores (-0.3 KB): Rust's wasm32 stack sits below the data and grows down
# from 1 MB, so the lowest 1 KB is reached only by an overflowing stack.
# The second -Oz folds more of what the first left (with the custom sections
# stripped below, -0.4 KB gzipped).
# Measured and left out: -O3 before the second -Oz (30 B smaller before the
# inlining limit above, 14 B larger with it), --converge, --vacuum,
# --duplicate-function-elimination and a third -Oz (nothing), --gufa,
# --flatten (larger); -tnh/-iit (-0.1 KB) would let wasm-opt delete the abort
# paths of bounds checks.
optimise() {
  local from="$1" to="$2"
  shift 2
  wasm-opt -Oz "${inlining[@]}" "${features[@]}" "$@" "$from" -o "$to"
  wasm-opt -Oz --low-memory-unused "${inlining[@]}" "${features[@]}" "$@" "$to" -o "$to"
}
# For `size.sh --top`: the same module, optimised the same way, with its names.
if [[ -n "${ICE_PEER_NAMED_WASM:-}" ]]; then
  optimise pkg/ice_peer_bg.wasm "$ICE_PEER_NAMED_WASM" -g
fi
# Shipped without the two custom sections no browser reads (producers:
# toolchain versions; target_features).
optimise pkg/ice_peer_bg.wasm pkg/ice_peer_bg.wasm --strip-producers --strip-target-features
# wasm-bindgen's hashed import/export names, shipped twice (in the .wasm and in
# the glue), shortened to one or two characters in both: -4.4 KB gzipped. The
# package's public JS names do not change; the script checks that glue and
# wasm still agree and fails otherwise. The tests run against this artifact.
node scripts/shorten-names.mjs pkg
# The glue, with the hand-written modules of src/web/js/ bundled into it, minified
# (esbuild, then terser; class names kept; exports checked unchanged):
# -2.6 KB gzipped. Its JSDoc stays in ice_peer.d.ts, which is not touched.
node scripts/minify-glue.mjs pkg
