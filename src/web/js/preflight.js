// @ts-check
// PeerManager.preflight(): which check each ICE server URL gets and what
// their results mean (`planChecks`, `conclude`: pure, tested in node), and
// the checks themselves, each on a short-lived RTCPeerConnection of its
// own, all side by side (`runCheck`).
//
// The policy is here rather than in the Rust core, against the rule the
// rest of the package follows: across the wasm boundary the plan and the
// conclusion cost 720 B gzipped, here about 200, and the package has a size
// budget (docs/size.md). The option checks stay in Rust with every other
// TypeError.

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
 * At most this many URLs are tested, the first ones in the list: each check
 * holds a connection, and browsers cap those (Chromium at 500 a page).
 */
const MAX_CHECKS = 16;

/** Transports in the order a call would rather use them. @type {CheckTransport[]} */
const PREFERRED = ["udp", "tcp", "tls"];

/**
 * The check a URL calls for, or null for a scheme that is not STUN or TURN:
 * `stun:` a server-reflexive address over UDP, `stuns:` over TLS; `turn:` a
 * relay over UDP, or TCP with `?transport=tcp` (RFC 7065: the one parameter
 * a turn: URL has; Chromium takes its value in any case); `turns:` over TLS.
 * @param {string} url a URL as the manager normalised it (lower-case scheme)
 * @returns {{ kind: CheckKind, transport: CheckTransport } | null}
 */
export function checkOf(url) {
  switch (url.slice(0, url.indexOf(":") + 1)) {
    case "stun:":
      return { kind: "stun", transport: "udp" };
    case "stuns:":
      return { kind: "stun", transport: "tls" };
    case "turns:":
      return { kind: "turn", transport: "tls" };
    case "turn:":
      return { kind: "turn", transport: /\?transport=tcp$/i.test(url) ? "tcp" : "udp" };
  }
  return null;
}

/**
 * One check per distinct STUN or TURN URL, in the order the servers list
 * them, at most MAX_CHECKS; each tries its URL alone with its entry's
 * credentials.
 * @param {(RTCIceServer & { urls: string[] })[]} servers normalised, as Rust builds them
 * @returns {PlannedCheck[]}
 */
export function planChecks(servers) {
  /** @type {PlannedCheck[]} */
  const checks = [];
  for (const server of servers) {
    for (const url of server.urls) {
      if (checks.length === MAX_CHECKS) return checks;
      const check = checkOf(url);
      if (!check || checks.some((c) => c.url === url)) continue;
      checks.push({ server: { ...server, urls: [url] }, url, ...check });
    }
  }
  return checks;
}

/**
 * What the results mean for calls from this network. `direct` when a STUN
 * check passed (a reflexive address, so a peer-to-peer path may work), else
 * `relay` when a TURN check passed, else `blocked`; `relayTransports`: where
 * a relay worked, each once, udp before tcp before tls.
 * @param {Pick<PreflightCheck, "kind" | "transport" | "ok">[]} results
 * @returns {{ verdict: "direct" | "relay" | "blocked", relayTransports: CheckTransport[] }}
 */
export function conclude(results) {
  const passed = results.filter((result) => result.ok);
  const relayTransports = PREFERRED.filter((transport) =>
    passed.some((result) => result.kind === "turn" && result.transport === transport),
  );
  const direct = passed.some((result) => result.kind === "stun");
  return { verdict: direct ? "direct" : relayTransports.length ? "relay" : "blocked", relayTransports };
}

/**
 * Once `servers` is there, the checks planned for them, side by side, each
 * for at most `timeoutMs`; once all are over (every connection closed), the
 * contract's `PreflightReport`. Rejects only when `servers` does.
 * @param {RTCIceServer[] | Promise<RTCIceServer[]>} servers normalised, as Rust builds them
 * @param {number} timeoutMs
 */
export function preflight(servers, timeoutMs) {
  return Promise.resolve(servers).then((servers) => {
    const started = Date.now();
    const checks = planChecks(/** @type {(RTCIceServer & { urls: string[] })[]} */ (servers));
    return Promise.all(checks.map((check) => runCheck(check, timeoutMs))).then((results) => ({
      checks: results,
      ...conclude(results),
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
