// @ts-check
// PeerManager.preflight()'s browser side: each check the core planned
// (src/core/preflight.rs) on a short-lived RTCPeerConnection of its own, all
// side by side. This only gathers candidates and times them; what the
// results mean is decided in Rust.
import { ManagerEvent } from "./kinds.js";

/** @typedef {"stun" | "turn"} CheckKind */
/** @typedef {"udp" | "tcp" | "tls"} CheckTransport */

/**
 * One planned check: one server entry with exactly one URL (and that
 * entry's credentials, which never leave this module).
 * @typedef {object} PlannedCheck
 * @property {RTCIceServer} server
 * @property {string} url
 * @property {CheckKind} kind
 * @property {CheckTransport} transport
 */

/**
 * Contract `PreflightCheck`.
 * @typedef {object} PreflightCheck
 * @property {string} url
 * @property {CheckKind} kind
 * @property {CheckTransport} transport
 * @property {boolean} ok
 * @property {number | null} ms
 * @property {number | null} errorCode
 * @property {string | null} errorText
 */

/**
 * A check as the core planned it: the URL at `urlIndex` in the server
 * entry's `urls`, tried alone with that entry's credentials.
 * @param {RTCIceServer & { urls: string[] }} server an entry as Rust builds it
 * @param {number} urlIndex
 * @param {CheckKind} kind
 * @param {CheckTransport} transport
 * @returns {PlannedCheck}
 */
export function plannedCheck(server, urlIndex, kind, transport) {
  const url = server.urls[urlIndex];
  return { server: { ...server, urls: [url] }, url, kind, transport };
}

/**
 * What the core concluded from the results (see `conclude` below).
 * @typedef {object} Conclusion
 * @property {"direct" | "relay" | "blocked"} verdict
 * @property {CheckTransport[]} relayTransports
 */

/**
 * @param {Conclusion["verdict"]} verdict
 * @param {CheckTransport[]} relayTransports
 * @returns {Conclusion}
 */
export function conclusion(verdict, relayTransports) {
  return { verdict, relayTransports };
}

/**
 * Once `servers` is there, the checks the core plans for them, side by
 * side, each for at most `timeoutMs`; once all are over (every connection
 * closed), the core's conclusion from their results. Resolves with the
 * contract's `PreflightReport`; rejects only when `servers` does.
 * @param {RTCIceServer[] | Promise<RTCIceServer[]>} servers normalised, as
 *   Rust builds them
 * @param {number} timeoutMs
 * @param {import("./manager.js").ManagerNotify} notify the manager's
 *   callback: `PreflightPlan` returns the checks, `PreflightOver` the conclusion
 */
export function preflight(servers, timeoutMs, notify) {
  return Promise.resolve(servers).then((servers) => {
    const started = Date.now();
    const checks = /** @type {PlannedCheck[]} */ (notify(ManagerEvent.PreflightPlan, servers));
    return Promise.all(checks.map((check) => runCheck(check, timeoutMs))).then((results) => ({
      checks: results,
      .../** @type {Conclusion} */ (notify(ManagerEvent.PreflightOver, results)),
      durationMs: Date.now() - started,
    }));
  });
}

/**
 * One check. A STUN check (iceTransportPolicy "all") passes on a
 * server-reflexive candidate, or when gathering ends with no error: the
 * server answered with this host's own address (no NAT in between), which
 * browsers do not repeat as a candidate. A TURN check ("relay") passes on a
 * relay candidate; with one URL configured it came over that URL's
 * transport. Never rejects; the connection is closed when it settles.
 * @param {PlannedCheck} check
 * @param {number} timeoutMs
 * @returns {Promise<PreflightCheck>}
 */
export function runCheck(check, timeoutMs) {
  const relay = check.kind === "turn";
  const wanted = relay ? "relay" : "srflx";
  const started = performance.now();
  return new Promise((resolve) => {
    /** @type {RTCPeerConnection | null} */
    let pc = null;
    /** @type {number | null} */
    let errorCode = null;
    /** @type {string | null} */
    let errorText = null;
    let settled = false;
    /**
     * @param {boolean} ok
     * @param {string} reason why it failed, when the browser gave no error
     */
    const finish = (ok, reason) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (pc) {
        pc.onicecandidate = pc.onicecandidateerror = null;
        pc.close();
      }
      resolve({
        url: check.url,
        kind: check.kind,
        transport: check.transport,
        ok,
        ms: ok ? Math.round(performance.now() - started) : null,
        errorCode: ok ? null : errorCode,
        errorText: ok ? null : (errorText ?? reason),
      });
    };
    const timer = setTimeout(() => finish(false, `no ${wanted} candidate within ${timeoutMs} ms`), timeoutMs);
    try {
      pc = new RTCPeerConnection({ iceServers: [check.server], iceTransportPolicy: relay ? "relay" : "all" });
    } catch (error) {
      return finish(false, describe(error));
    }
    pc.onicecandidate = (event) => {
      if (event.candidate?.type === wanted) finish(true, "");
      // null: gathering is over without the candidate.
      else if (!event.candidate) finish(!relay && errorCode === null, `no ${wanted} candidate`);
    };
    pc.onicecandidateerror = (event) => {
      const error = /** @type {RTCPeerConnectionIceErrorEvent} */ (event);
      // A server's own answer (e.g. 401) says more than 701 (no answer,
      // perhaps only from one of several local interfaces).
      if (errorCode === null || (errorCode >= 700 && error.errorCode < 700)) {
        errorCode = error.errorCode;
        errorText = error.errorText || null;
      }
    };
    pc.createDataChannel("preflight");
    pc.setLocalDescription().catch((error) => finish(false, describe(error)));
  });
}

/**
 * A thrown value's message (the browser's; never holds a credential).
 * @param {unknown} error
 * @returns {string}
 */
function describe(error) {
  return error instanceof Error ? error.message : String(error);
}
