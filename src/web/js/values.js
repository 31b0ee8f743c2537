// Property access for Rust, the key passed as a string: one import call,
// where Reflect from wasm costs a key string made and freed and an
// exception check at every use.

// target[key]; undefined when target is not an object or the read throws
// (a getter on an app's options object).
export function get(target, key) {
  try {
    return typeof target === "object" && target !== null ? target[key] : undefined;
  } catch {}
}

// target[key] = value, on the plain objects Rust builds.
export function set(target, key, value) {
  target[key] = value;
}

// Methods apps pass around as callbacks (`useSyncExternalStore(peer.subscribe, ...)`,
// `socket.on("signal", peer.signal)`), bound to each new Peer.
export function bindMethods(peer) {
  for (const name of ["subscribe", "signal", "close"]) peer[name] = peer[name].bind(peer);
}

// An Error with this name (IceServersError, InvalidStateError).
export function namedError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

// peer.subscribe(listener): the listener in the peer's set (not once the
// peer is closed), and the function that takes it out again.
export function subscribe(set, listener, add) {
  if (add) set.add(listener);
  return () => {
    set.delete(listener);
  };
}

// Contract objects, built here: from wasm, each property set is an import call.

// IceServersInfo, `source` by number (0 network, 1 cache, 2 fallback); a time
// that is not known (NaN) is null. Plain numbers: Rust's Option<f64> and
// string arguments cost the glue more.
export function info(source, fetchedAt, expiresAt) {
  const time = (ms) => (isNaN(ms) ? null : ms);
  return { source: ["network", "cache", "fallback"][source], fetchedAt: time(fetchedAt), expiresAt: time(expiresAt) };
}

// NetworkQualityStats' figures of one direction (or of the worse one).
export function qualityFigures(mos, packetLossPct, jitterMs) {
  return { mos, packetLossPct, jitterMs };
}

// NetworkQualityStats: the worse direction's figures, the round trip, and
// each direction's (null when it is not graded).
export function networkQualityStats(worse, roundTripTimeMs, send, receive) {
  return { ...worse, roundTripTimeMs, send, receive };
}

// Debug logging (`debug: true`): "[ice-peer] message", and the detail when
// there is one. Rust never passes a token or a credential (src/web/log.rs).
export function log(message, detail) {
  if (detail === undefined) console.log("[ice-peer] " + message);
  else console.log("[ice-peer] " + message, detail);
}

// An object's own enumerable members as [key, value, key, value, ...]: one
// array for Rust to read, where Object.entries makes one per member.
export function members(target) {
  const out = [];
  for (const key of Object.keys(target)) out.push(key, target[key]);
  return out;
}
