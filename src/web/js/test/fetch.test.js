// @ts-check
// fetch.js's decisions: which token counts as none, what counts as a 2xx,
// how each failure is told apart, and that cancel() silences the reply.
import { test } from "node:test";
import assert from "node:assert/strict";
import { attempt, readToken, usable } from "../fetch.js";
import { FetchOutcome, ManagerEvent } from "../kinds.js";

/** @typedef {{ outcome: number, status: number, body: unknown, token: string }} Reply */

/**
 * Runs one attempt against `fake` (in place of the global fetch) and
 * resolves with its one reply.
 * @param {(url: string, init: RequestInit) => Promise<Response>} fake
 * @param {import("../fetch.js").TokenSource} [source]
 * @param {number} [timeoutMs]
 * @returns {Promise<Reply>}
 */
function run(fake, source = "tok", timeoutMs = 1000) {
  globalThis.fetch = /** @type {typeof fetch} */ (/** @type {unknown} */ (fake));
  return new Promise((resolve) => {
    attempt("https://example.test/ice", source, 0, timeoutMs, (outcome, status, body, token) =>
      resolve({ outcome, status, body, token }),
    );
  });
}

/** @param {number} status @param {string} text */
const respond = (status, text) => async () => new Response(status === 204 ? null : text, { status });

test("a blank or non-string token is no token", () => {
  assert.equal(usable("abc"), "abc");
  for (const none of ["", "   ", "\n\t", null, undefined, 42, {}]) assert.equal(usable(none), "");
});

test("readToken answers at once for a string or a function returning one", () => {
  const never = () => assert.fail("done must not be called for an immediate answer");
  assert.equal(readToken("abc", 1, never), "abc");
  assert.equal(readToken(() => "def", 1, never), "def");
  assert.equal(readToken(() => "  ", 1, never), "");
  assert.equal(
    readToken(() => {
      throw new Error("no session");
    }, 1, never),
    "",
  );
});

test("readToken hands a promised token back with the lookup's id", async () => {
  /** @type {unknown[][]} */
  const calls = [];
  /** @type {(...args: [number, number, string]) => void} */
  const done = (...args) => {
    calls.push(args);
  };
  assert.equal(readToken(() => Promise.resolve("later"), 7, done), undefined);
  assert.equal(readToken(() => Promise.reject(new Error("x")), 8, done), undefined);
  assert.equal(readToken(() => Promise.resolve(" "), 9, done), undefined);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(calls, [
    [ManagerEvent.TokenArrived, 7, "later"],
    [ManagerEvent.TokenArrived, 8, ""],
    [ManagerEvent.TokenArrived, 9, ""],
  ]);
});

test("a 2xx JSON body is Json; the token goes only into the Authorization header", async () => {
  /** @type {[string, RequestInit] | undefined} */
  let seen;
  const reply = await run(async (url, init) => {
    seen = [url, init];
    return new Response('{"iceServers":[]}', { status: 200 });
  });
  assert.deepEqual(reply, { outcome: FetchOutcome.Json, status: 200, body: { iceServers: [] }, token: "tok" });
  assert.ok(seen);
  assert.equal(seen[0], "https://example.test/ice");
  assert.deepEqual(seen[1].headers, { Authorization: "Bearer tok", Accept: "application/json" });
});

test("200 to 299 are a success, 199 and 300 are not", async () => {
  assert.equal((await run(respond(299, "{}"))).outcome, FetchOutcome.Json);
  for (const status of [199, 300, 401, 500]) {
    // The Response constructor refuses 199; a plain object stands in for it.
    const fake = async () => /** @type {Response} */ (/** @type {unknown} */ ({ status, text: async () => "{}" }));
    const reply = await run(fake);
    assert.deepEqual([reply.outcome, reply.status], [FetchOutcome.HttpStatus, status]);
  }
});

test("a 2xx body that is not JSON is NotJson, with its status", async () => {
  const reply = await run(respond(200, "<html>"));
  assert.deepEqual([reply.outcome, reply.status], [FetchOutcome.NotJson, 200]);
});

test("a rejected fetch, or a fetch that throws, is NetworkError", async () => {
  const rejected = await run(async () => {
    throw new TypeError("Failed to fetch");
  });
  assert.deepEqual([rejected.outcome, rejected.status], [FetchOutcome.NetworkError, 0]);
  const thrown = await run(/** @type {any} */ (() => {
    throw new TypeError("not a function");
  }));
  assert.equal(thrown.outcome, FetchOutcome.NetworkError);
});

test("the deadline aborts the request: Timeout", async () => {
  const reply = await run(
    (_url, init) =>
      new Promise((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(new Error("aborted")))),
    "tok",
    5,
  );
  assert.equal(reply.outcome, FetchOutcome.Timeout);
});

test("no token: NoToken, and nothing is sent", async () => {
  let sent = false;
  const reply = await run(async () => {
    sent = true;
    return new Response("{}");
  }, () => "");
  assert.equal(reply.outcome, FetchOutcome.NoToken);
  assert.equal(sent, false);
});

test("cancel() silences the reply and says whether a request was in flight", async () => {
  globalThis.fetch = () => new Promise(() => {});
  let replies = 0;
  const cancelInFlight = attempt("https://example.test/ice", "tok", 0, 1000, () => replies++);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(cancelInFlight(), true);
  const cancelWaiting = attempt("https://example.test/ice", "tok", 50, 1000, () => replies++);
  assert.equal(cancelWaiting(), false);
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(replies, 0);
});
