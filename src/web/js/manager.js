// The manager's browser plumbing besides the request (fetch.js): network
// changes, and the wait of a createPeer() for servers. Both report through
// the crate's one closure shape, notify(what, a, b) (src/web/mod.rs).

// Calls notify(0) on `online` and `offline` (in a window; a worker has no
// such events) and on `navigator.connection`'s `change` (the Network
// Information API: Chromium only). Returns the function that stops it.
export function watchNetwork(notify) {
  const events = [];
  if (typeof Window === "function" && globalThis instanceof Window) {
    events.push([globalThis, "online"], [globalThis, "offline"]);
  }
  const connection = globalThis.navigator?.connection;
  if (connection?.addEventListener) events.push([connection, "change"]);
  const changed = () => notify(0);
  for (const [target, name] of events) target.addEventListener(name, changed);
  return () => {
    for (const [target, name] of events) target.removeEventListener(name, changed);
  };
}

// Calls notify(1) once after `ms` (clamped by the caller); returns the
// function that cancels it.
export function after(ms, notify) {
  const id = setTimeout(() => notify(1), ms);
  return () => clearTimeout(id);
}

// [promise, settle]: a promise for a call that answers later, and
// settle(ok, value), which resolves it with value (ok) or rejects it. From
// wasm, `new Promise(executor)` would cost a closure type of its own.
export function deferred() {
  let settle;
  const promise = new Promise((resolve, reject) => {
    settle = (ok, value) => (ok ? resolve : reject)(value);
  });
  return [promise, settle];
}

// Calls `f`, a cancel or unwatch function of these modules (none throws):
// whether it returned a truthy value. From wasm, Function.call costs an
// exception check and a JS value back.
export function run(f) {
  return !!f();
}
