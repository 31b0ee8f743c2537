// @ts-check
// manager.js's decisions: which events are a network change, the wait of a
// createPeer(), and the promise settled from Rust.
import { test } from "node:test";
import assert from "node:assert/strict";
import { after, deferred, run, watchNetwork } from "../manager.js";
import { ManagerEvent } from "../kinds.js";

/** @type {any} */
const global = globalThis;

/**
 * Makes this process look like a window (online/offline on globalThis) with
 * `navigator.connection`, for the length of `body`.
 * @param {(window: EventTarget, connection: EventTarget) => void} body
 */
function asWindow(body) {
  const window = new EventTarget();
  const connection = new EventTarget();
  function Window() {}
  Window.prototype = Object.getPrototypeOf(globalThis);
  const saved = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  global.Window = Window;
  global.addEventListener = window.addEventListener.bind(window);
  global.removeEventListener = window.removeEventListener.bind(window);
  Object.defineProperty(globalThis, "navigator", { value: { connection }, configurable: true });
  try {
    body(window, connection);
  } finally {
    delete global.Window;
    delete global.addEventListener;
    delete global.removeEventListener;
    if (saved) Object.defineProperty(globalThis, "navigator", saved);
    else delete global.navigator;
  }
}

test("online, offline and a connection change are network changes, until unwatched", () => {
  asWindow((window, connection) => {
    /** @type {number[]} */
    const events = [];
    const unwatch = watchNetwork((event) => events.push(event));
    window.dispatchEvent(new Event("online"));
    window.dispatchEvent(new Event("offline"));
    connection.dispatchEvent(new Event("change"));
    window.dispatchEvent(new Event("resize"));
    assert.deepEqual(events, [ManagerEvent.NetworkChanged, ManagerEvent.NetworkChanged, ManagerEvent.NetworkChanged]);
    unwatch();
    window.dispatchEvent(new Event("online"));
    connection.dispatchEvent(new Event("change"));
    assert.equal(events.length, 3);
  });
});

test("outside a window (a worker) and without navigator.connection nothing is watched", () => {
  const unwatch = watchNetwork(() => assert.fail("no event source"));
  unwatch();
});

test("after() reports WaitOver once, unless cancelled first", async () => {
  /** @type {number[]} */
  const events = [];
  after(1, (event) => events.push(event));
  const cancel = after(1, () => assert.fail("cancelled"));
  cancel();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(events, [ManagerEvent.WaitOver]);
});

test("deferred() resolves with ok and rejects without", async () => {
  const [resolved, resolve] = deferred();
  resolve(true, 5);
  assert.equal(await resolved, 5);
  const [rejected, reject] = deferred();
  const error = new Error("no");
  reject(false, error);
  await assert.rejects(rejected, error);
});

test("run() says whether the function returned a truthy value", () => {
  assert.equal(run(() => true), true);
  assert.equal(run(() => undefined), false);
});
