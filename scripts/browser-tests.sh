#!/usr/bin/env bash
# Headless-browser test suites (tests/web_*.rs) against the fixture server.
#
#   scripts/browser-tests.sh              # every tests/web_*.rs
#   scripts/browser-tests.sh web_peers    # only these (names without .rs)
#
# Starts tests/support/fixture-server.mjs (HTTP on 127.0.0.1:$ICE_PEER_FIXTURE_PORT,
# coturn on $ICE_PEER_TURN_PORT), runs each suite in headless Chrome, prints the
# figures the tests reported, and exits non-zero if any suite failed.
#
# Each suite runs as `wasm-pack test --headless --chrome -- --test <suite>`; Chromium's
# flags (loopback peers, fake media, no sandbox as root) are in webdriver.json.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/env.sh

export ICE_PEER_FIXTURE_PORT="${ICE_PEER_FIXTURE_PORT:-47801}"
export ICE_PEER_TURN_PORT="${ICE_PEER_TURN_PORT:-47478}"
export ICE_PEER_FIXTURE_URL="${ICE_PEER_FIXTURE_URL:-http://127.0.0.1:$ICE_PEER_FIXTURE_PORT}"
# The test runner picks its browser from which driver variable is set, and
# prefers GECKODRIVER: set exactly the one for the browser asked for.
if [ "${ICE_PEER_BROWSER:-chrome}" = firefox ]; then
  export GECKODRIVER="${GECKODRIVER:-$(command -v geckodriver)}"
  unset CHROMEDRIVER
else
  export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
  unset GECKODRIVER
fi
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-900}"

log="$(mktemp -t ice-peer-fixture.XXXXXX.log)"
# The fixture server's stdin is this shell's fd 3: it exits when we do, however we die.
exec 3> >(exec node tests/support/fixture-server.mjs >"$log" 2>&1)
fixture_pid=$!
cleanup() {
  exec 3>&-
  kill "$fixture_pid" 2>/dev/null
  wait "$fixture_pid" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

answers() { node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$ICE_PEER_FIXTURE_URL/health"; }
for _ in $(seq 1 100); do
  answers && break
  if ! kill -0 "$fixture_pid" 2>/dev/null; then cat "$log"; echo "fixture server died" >&2; exit 1; fi
  sleep 0.1
done
answers || { cat "$log"; echo "fixture server not answering" >&2; exit 1; }

if [ "$#" -gt 0 ]; then
  suites=("$@")
else
  suites=()
  for f in tests/web_*.rs; do suites+=("$(basename "$f" .rs)"); done
fi

# A start of a test page can hang for good, whatever the suite: the runner's
# HTTP server (tiny_http 0.12 inside wasm-bindgen-test-runner) starts with four
# threads, one per connection, and its pool counts a thread it has just woken as
# still idle. When the browser opens more connections at once than there are
# idle threads (the page's, then up to five more to fetch the glue's six library
# modules in parallel), one can be queued with no thread to read it: its module
# never arrives, the page stays at "Loading scripts...", and the WebDriver
# navigation never returns. A thread comes free only when the browser closes one
# of the other, idle keep-alive connections: Firefox does after 1 s
# (network.http.keep-alive.timeout in webdriver.json), so its page goes on by
# itself; Chromium keeps them 300 s and has no switch for it. Such a start is
# told apart from a slow suite by the runner's "running N tests" line, which
# comes once the page has loaded the wasm: when it has not come STARTUP_S
# seconds after the runner started, the browser and runner are stopped and the
# suite starts again (STARTS times in all). A suite that started is never
# retried, so a failing test fails the run.
STARTUP_S="${ICE_PEER_BROWSER_STARTUP_S:-20}"
STARTS="${ICE_PEER_BROWSER_STARTS:-20}"
run_suite() {
  local suite="$1" attempt out pid started waited rc
  for attempt in $(seq 1 "$STARTS"); do
    out="$(mktemp -t ice-peer-suite.XXXXXX.log)"
    # Its own session, so that the runner, the driver and the browser stop together.
    setsid wasm-pack test --headless "--${ICE_PEER_BROWSER:-chrome}" -- --test "$suite" >"$out" 2>&1 &
    pid=$!
    tail -n +1 -f --pid="$pid" "$out" &
    local printer=$!
    started="" waited=0
    while kill -0 "$pid" 2>/dev/null; do
      grep -q '^running [0-9]* tests\?$' "$out" && break
      [[ -z "$started" ]] && grep -q '^Running headless tests in' "$out" && started=1
      if [[ -n "$started" ]] && ((waited >= STARTUP_S)); then
        echo "=== $suite: the test page did not start within ${STARTUP_S} s (attempt $attempt of $STARTS); restarting the browser"
        kill -- -"$pid" 2>/dev/null
        break
      fi
      [[ -n "$started" ]] && waited=$((waited + 1))
      sleep 1
    done
    wait "$pid"
    rc=$?
    wait "$printer"
    local ran=0
    grep -q '^running [0-9]* tests\?$' "$out" && ran=1
    rm -f "$out"
    if ((ran || rc == 0)); then return "$rc"; fi
    [[ -n "$started" ]] || return "$rc" # failed before the browser: a build error, not a hang
  done
  return 1
}

status=0
for suite in "${suites[@]}"; do
  echo "=== $suite"
  run_suite "$suite" || status=1
done

echo "=== figures reported by the tests"
grep '^FIGURE ' "$log" | sed 's/^FIGURE /  /'
rm -f "$log"
exit "$status"
