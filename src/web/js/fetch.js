// The ICE-servers request's browser plumbing: asking the token source, the
// fetch with its deadline, reading and parsing the body, and the wait before
// a retry. Whether and when to retry, what each outcome means, the cache and
// the errors are decided in Rust (src/web/fetch.rs, src/web/manager/,
// src/core/): the same calls made from wasm cost several kilobytes.
//
// The token goes into the Authorization header and nowhere else: not into
// the URL, an error or a log.

// What a token source gave: a non-blank string, else "" (no token).
const usable = (token) => (typeof token === "string" && token.trim() ? token : "");

// The token of `source`, a string or a function returning one or a promise
// of one: the token, "" (none; also for a throw or a rejection), or a
// promise of either.
function ask(source) {
  try {
    const token = typeof source === "function" ? source() : source;
    return token instanceof Promise ? token.then(usable, () => "") : usable(token);
  } catch {
    return "";
  }
}

// For a caller, before the cache is looked at: the token ("" for none) when
// the source answers at once; otherwise undefined, and `done(id, token)`
// from a later task (`id` is never 0).
export function readToken(source, id, done) {
  const token = ask(source);
  if (typeof token === "string") return token;
  token.then((token) => done(id, token));
}

// One attempt, after `delayMs` (a retry's backoff; 0: at once): the token
// asked of `source` (the first attempt passes the token itself), then a GET
// that aborts itself after `timeoutMs`. `done(outcome << 16 | status, body, token)`
// is called once, from a later task, with the token that was sent (flat
// arguments: Rust reads no object). The outcomes:
//   0  a 2xx response whose body parsed as JSON (`body`, the parsed value)
//   1  a response with a non-2xx `status` (its body is not read)
//   2  fetch or the body's read rejected: offline, refused, CORS
//   3  the deadline passed first (headers and body alike) and aborted it
//   4  a 2xx response whose body is not JSON
//   5  the source gave no token: nothing was sent
// Returns `cancel()`: nothing more is sent, and `done` is never called after
// it (Rust frees it then). `cancel()` returns whether a request was in flight.
export function attempt(endpoint, source, delayMs, timeoutMs, done) {
  let live = true;
  let timer;
  let controller;
  // (A missing status is 0: `| undefined` is `| 0`.)
  const report = (outcome, token, status, body) => {
    clearTimeout(timer);
    if (live) {
      live = false;
      done((outcome << 16) | status, body, token);
    }
  };
  const send = (token) => {
    if (!live) return;
    if (!token) return report(5);
    const abort = new AbortController();
    controller = abort;
    // Aborted before a report: by this deadline (cancel() silences `report`).
    timer = setTimeout(() => abort.abort(), timeoutMs);
    // `fetch` is looked up now, not at load: in a window or a worker, and
    // tests may replace it. Whatever throws or rejects on the way (fetch,
    // a stub that is not one, the body's read) is a lost attempt.
    new Promise((resolve) =>
      resolve(fetch(endpoint, { headers: { Authorization: "Bearer " + token, Accept: "application/json" }, signal: abort.signal })),
    )
      .then((response) => {
        const status = response.status;
        if (status < 200 || status > 299) return report(1, token, status);
        return response.text().then((text) => {
          // A throw from report itself comes after it has reported: the
          // catch's report then does nothing.
          try {
            report(0, token, status, JSON.parse(text));
          } catch {
            report(4, token, status);
          }
        });
      })
      .catch(() => report(abort.signal.aborted ? 3 : 2, token));
  };
  const start = () => Promise.resolve(ask(source)).then(send);
  if (delayMs > 0) timer = setTimeout(start, delayMs);
  else start();
  return () => {
    const inFlight = live && !!controller;
    live = false;
    clearTimeout(timer);
    controller?.abort();
    return inFlight;
  };
}
