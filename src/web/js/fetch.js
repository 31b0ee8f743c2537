// @ts-check
// The ICE-servers request's browser plumbing: asking the token source, the
// fetch with its deadline, reading and parsing the body, and the wait before
// a retry. Whether and when to retry, what each outcome means, the cache and
// the errors are decided in Rust (src/web/fetch.rs, src/web/manager/,
// src/core/). Decided here: which token counts as none (blank, not a
// string, a throw or a rejection), and which responses are a success (2xx).
//
// The token goes into the Authorization header and nowhere else: not into
// the URL, an error or a log.
import { FetchOutcome, ManagerEvent } from "./kinds.js";

/** @typedef {string | (() => string | null | undefined | Promise<string | null | undefined>)} TokenSource */

/**
 * What a token source gave: a non-blank string, else "" (no token).
 * @param {unknown} token
 * @returns {string}
 */
export function usable(token) {
  return typeof token === "string" && token.trim() ? token : "";
}

/**
 * The token of `source`: the token, "" (none; also for a throw or a
 * rejection), or a promise of either.
 * @param {TokenSource} source
 * @returns {string | Promise<string>}
 */
function ask(source) {
  try {
    const token = typeof source === "function" ? source() : source;
    return token instanceof Promise ? token.then(usable, () => "") : usable(token);
  } catch {
    return "";
  }
}

/**
 * For a caller, before the cache is looked at: the token ("" for none) when
 * the source answers at once; otherwise undefined, and
 * `done(ManagerEvent.TokenArrived, id, token)` from a later task.
 * @param {TokenSource} source
 * @param {number} id the lookup's id, handed back with the token
 * @param {(event: ManagerEvent, id: number, token: string) => void} done
 * @returns {string | undefined}
 */
export function readToken(source, id, done) {
  const token = ask(source);
  if (typeof token === "string") return token;
  token.then((token) => done(ManagerEvent.TokenArrived, id, token));
}

/**
 * @callback Reply
 * @param {FetchOutcome} outcome
 * @param {number} status the response's status; 0 when there was none
 * @param {unknown} body the parsed JSON (`FetchOutcome.Json` only)
 * @param {string} token the token sent ("" for `FetchOutcome.NoToken`)
 * @returns {void}
 */

/**
 * One attempt, after `delayMs` (a retry's backoff; 0: at once): the token
 * asked of `source` (the first attempt passes the token itself), then a GET
 * that aborts itself after `timeoutMs`. `done` is called once, from a later
 * task. Returns `cancel()`: nothing more is sent, and `done` is never called
 * after it (Rust frees it then); `cancel()` returns whether a request was in
 * flight.
 * @param {string} endpoint
 * @param {TokenSource} source
 * @param {number} delayMs
 * @param {number} timeoutMs
 * @param {Reply} done
 * @returns {() => boolean}
 */
export function attempt(endpoint, source, delayMs, timeoutMs, done) {
  let live = true;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {AbortController | undefined} */
  let controller;
  /** @type {(outcome: FetchOutcome, token?: string, status?: number, body?: unknown) => void} */
  const report = (outcome, token = "", status = 0, body = undefined) => {
    clearTimeout(timer);
    if (live) {
      live = false;
      done(outcome, status, body, token);
    }
  };
  /** @param {string} token */
  const send = (token) => {
    if (!live) return;
    if (!token) return report(FetchOutcome.NoToken);
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
      .then((/** @type {Response} */ response) => {
        const status = response.status;
        if (status < 200 || status > 299) return report(FetchOutcome.HttpStatus, token, status);
        return response.text().then((text) => {
          // A throw from report itself comes after it has reported: the
          // catch's report then does nothing.
          try {
            report(FetchOutcome.Json, token, status, JSON.parse(text));
          } catch {
            report(FetchOutcome.NotJson, token, status);
          }
        });
      })
      .catch(() => report(abort.signal.aborted ? FetchOutcome.Timeout : FetchOutcome.NetworkError, token));
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
