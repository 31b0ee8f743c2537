// @ts-check
// The manager's browser plumbing besides the request (fetch.js): which
// events are a network change, the wait of a createPeer() for servers, and
// promises settled from Rust.
import { ManagerEvent } from "./kinds.js";

/** @typedef {(event: ManagerEvent, id: number, token: string) => void} ManagerNotify */

/**
 * Calls `notify(ManagerEvent.NetworkChanged)` on `online` and `offline` (in
 * a window; a worker has no such events) and on `navigator.connection`'s
 * `change` (the Network Information API: Chromium only). Returns the
 * function that stops it.
 * @param {ManagerNotify} notify
 * @returns {() => void}
 */
export function watchNetwork(notify) {
  /** @type {[EventTarget, string][]} */
  const events = [];
  if (typeof Window === "function" && globalThis instanceof Window) {
    events.push([globalThis, "online"], [globalThis, "offline"]);
  }
  /** @type {EventTarget | undefined} */
  const connection = /** @type {any} */ (globalThis.navigator)?.connection;
  if (connection?.addEventListener) events.push([connection, "change"]);
  const changed = () => notify(ManagerEvent.NetworkChanged, 0, "");
  for (const [target, name] of events) target.addEventListener(name, changed);
  return () => {
    for (const [target, name] of events) target.removeEventListener(name, changed);
  };
}

/**
 * Calls `notify(ManagerEvent.WaitOver)` once after `ms` (clamped by the
 * caller); returns the function that cancels it.
 * @param {number} ms
 * @param {ManagerNotify} notify
 * @returns {() => void}
 */
export function after(ms, notify) {
  const id = setTimeout(() => notify(ManagerEvent.WaitOver, 0, ""), ms);
  return () => clearTimeout(id);
}

/**
 * A promise for a call that answers later, and what settles it: resolved
 * with `value` when `ok`, else rejected with it.
 * @returns {[Promise<unknown>, (ok: boolean, value: unknown) => void]}
 */
export function deferred() {
  /** @type {(ok: boolean, value: unknown) => void} */
  let settle = () => {};
  const promise = new Promise((resolve, reject) => {
    settle = (ok, value) => (ok ? resolve : reject)(value);
  });
  return [promise, settle];
}

/**
 * Calls `f`, a cancel or unwatch function of these modules (none throws):
 * whether it returned a truthy value.
 * @param {() => unknown} f
 * @returns {boolean}
 */
export function run(f) {
  return !!f();
}
