// @ts-check
// Contract values made for Rust: the Peer object's bound methods, named
// errors, the subscribe set, IceServersInfo and the debug log.

/**
 * Methods apps pass around as callbacks (`useSyncExternalStore(peer.subscribe, ...)`,
 * `socket.on("signal", peer.signal)`), bound to each new Peer.
 * @param {Record<"subscribe" | "signal" | "close", Function>} peer
 */
export function bindMethods(peer) {
  for (const name of /** @type {const} */ (["subscribe", "signal", "close"])) peer[name] = peer[name].bind(peer);
}

/**
 * An Error with this name (IceServersError, InvalidStateError).
 * @param {string} name
 * @param {string} message
 * @returns {Error}
 */
export function namedError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * peer.subscribe(listener): the listener in the peer's set (not once the
 * peer is closed, `add` false), and the function that takes it out again.
 * @param {Set<unknown>} set
 * @param {unknown} listener
 * @param {boolean} add
 * @returns {() => void}
 */
export function subscribe(set, listener, add) {
  if (add) set.add(listener);
  return () => {
    set.delete(listener);
  };
}

/**
 * The contract's IceServersInfo; a time that is not known (NaN) is null.
 * @param {"network" | "cache" | "fallback"} source
 * @param {number} fetchedAt
 * @param {number} expiresAt
 */
export function info(source, fetchedAt, expiresAt) {
  /** @param {number} ms */
  const time = (ms) => (isNaN(ms) ? null : ms);
  return { source, fetchedAt: time(fetchedAt), expiresAt: time(expiresAt) };
}

/**
 * NetworkQualityStats' figures of one direction (or of the worse one).
 * @param {number} mos
 * @param {number} packetLossPct
 * @param {number} jitterMs
 */
export function qualityFigures(mos, packetLossPct, jitterMs) {
  return { mos, packetLossPct, jitterMs };
}

/**
 * NetworkQualityStats: the worse direction's figures, the round trip, and
 * each direction's (null when it is not graded).
 * @param {{ mos: number, packetLossPct: number, jitterMs: number }} worse
 * @param {number} roundTripTimeMs
 * @param {{ mos: number, packetLossPct: number, jitterMs: number } | null} send
 * @param {{ mos: number, packetLossPct: number, jitterMs: number } | null} receive
 */
export function networkQualityStats(worse, roundTripTimeMs, send, receive) {
  return { ...worse, roundTripTimeMs, send, receive };
}

/**
 * Debug logging (`debug: true`): "[ice-peer] message", and the detail when
 * there is one. Rust never passes a token or a credential (src/web/log.rs).
 * @param {string} message
 * @param {unknown} detail
 */
export function log(message, detail) {
  if (detail === undefined) console.log("[ice-peer] " + message);
  else console.log("[ice-peer] " + message, detail);
}
