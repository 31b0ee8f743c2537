// One attempt at the ICE-servers endpoint: the browser plumbing only. Retries,
// backoff, caching and what each outcome means are decided in Rust
// (src/web/manager/request.rs, src/core/); here a fetch with its deadline is
// a few lines, where the same calls from wasm cost several kilobytes.
//
// `done(outcome, status, body)` is called exactly once, from a later task:
//   0  a 2xx response whose body parsed as JSON (`body`, the parsed value)
//   1  a response with a non-2xx `status` (its body is not read)
//   2  fetch or the body's read rejected: offline, refused, CORS, or abort()
//   3  the deadline passed first (headers and body alike) and aborted it
//   4  a 2xx response whose body is not JSON
// The token goes into the header and nowhere else: not into the URL, an
// error or a log.
export function fetchServers(endpoint, token, timeoutMs, done) {
  const controller = new AbortController();
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const settle = (outcome, status, body) => {
    clearTimeout(deadline);
    done(outcome, status, body);
  };
  const lost = () => settle(timedOut ? 3 : 2, 0);
  // `fetch` is looked up now, not at load: in a window or a worker, and
  // tests may replace it.
  new Promise((resolve) =>
    resolve(
      fetch(endpoint, {
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        signal: controller.signal,
      }),
    ),
  ).then((response) => {
    const status = response.status;
    if (status < 200 || status > 299) return settle(1, status);
    response.text().then((text) => {
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        return settle(4, status);
      }
      settle(0, status, body);
    }, lost);
  }, lost);
  // Called by destroy(): the pending promise rejects, which reports 2.
  return () => controller.abort();
}
