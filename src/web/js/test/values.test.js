// @ts-check
// property.js and values.js: reads that must not throw, and the contract's
// plain values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { get, members, set } from "../property.js";
import { bindMethods, info, namedError, subscribe } from "../values.js";

test("get() reads objects only, and a throwing getter reads as undefined", () => {
  const options = {
    token: "t",
    get endpoint() {
      throw new Error("getter");
    },
  };
  assert.equal(get(options, "token"), "t");
  assert.equal(get(options, "endpoint"), undefined);
  assert.equal(get(null, "token"), undefined);
  assert.equal(get("string", "length"), undefined);
});

test("set() and members()", () => {
  /** @type {Record<string, unknown>} */
  const target = {};
  set(target, "a", 1);
  set(target, "b", "two");
  assert.deepEqual(members(target), ["a", 1, "b", "two"]);
});

test("info(): a time not known is null", () => {
  assert.deepEqual(info("cache", 10, NaN), { source: "cache", fetchedAt: 10, expiresAt: null });
});

test("namedError() names the error", () => {
  const error = namedError("IceServersError", "no servers");
  assert.ok(error instanceof Error);
  assert.deepEqual([error.name, error.message], ["IceServersError", "no servers"]);
});

test("subscribe() adds only when asked, and its result removes", () => {
  const set = new Set();
  const listener = () => {};
  const unsubscribe = subscribe(set, listener, true);
  assert.ok(set.has(listener));
  unsubscribe();
  assert.equal(set.size, 0);
  subscribe(set, listener, false);
  assert.equal(set.size, 0);
});

test("bindMethods() binds the three methods apps pass around", () => {
  const peer = {
    /** @this {any} */ subscribe() { return this; },
    /** @this {any} */ signal() { return this; },
    /** @this {any} */ close() { return this; },
  };
  bindMethods(peer);
  const { subscribe: s, signal, close } = peer;
  assert.equal(s(), peer);
  assert.equal(signal(), peer);
  assert.equal(close(), peer);
});
