// manager.preflight() against the fixture's coturn: one exported function
// per test of tests/web_preflight.rs, run by tests/support/browser.rs with
// the helpers `H` (tests/support/helpers.js).

/**
 * `manager` on the fixture's TURN-REST credentials; `stun` and `turn`, its
 * two server entries; `turnTcp`, the same TURN server over TCP;
 * `allClosed(what)`, a check that every RTCPeerConnection made since is
 * closed with its handlers detached; `noCredential(report, ...secrets)`;
 * `summary(report)`. `restore()` puts the browser's RTCPeerConnection back.
 */
async function setUp(H) {
  const manager = H.manager({ endpoint: H.url(`/turn/${H.name("preflight")}?ttl=3600`), token: "tok" });
  const [stun, turn] = await manager.getIceServers();
  H.ok(turn.username && turn.credential, `a TURN entry with credentials: ${H.json(turn)}`);
  const turnTcp = { ...turn, urls: [turn.urls[0].replace("transport=udp", "transport=tcp")] };
  const connections = [];
  const Native = globalThis.RTCPeerConnection;
  globalThis.RTCPeerConnection = class extends Native {
    constructor(config) { super(config); connections.push(this); }
  };
  const allClosed = (what) => {
    H.ok(connections.length > 0, `${what}: connections were made`);
    H.eq(connections.map((pc) => [pc.signalingState, pc.onicecandidate, pc.onicecandidateerror]),
      connections.map(() => ["closed", null, null]), `${what}: every connection closed, its handlers detached`);
  };
  const noCredential = (report, ...secrets) => {
    const text = JSON.stringify(report);
    for (const secret of [turn.credential, turn.username, ...secrets]) {
      H.ok(!text.includes(secret), `no credential in the report: ${text}`);
    }
  };
  const summary = (report) => report.checks.map((c) => [c.url, c.kind, c.transport, c.ok]);
  const restore = () => { globalThis.RTCPeerConnection = Native; };
  return { manager, stun, turn, turnTcp, allClosed, noCredential, summary, restore };
}

export async function every_check_passes_against_coturn(H) {
  const { manager, stun, turn, turnTcp, allClosed, noCredential, summary, restore } = await setUp(H);
  try {
    const started = performance.now();
    const report = await manager.preflight({ iceServers: [stun, turn, turnTcp], timeoutMs: 5000 });
    const elapsed = performance.now() - started;
    H.eq(summary(report), [
      [stun.urls[0], "stun", "udp", true],
      [turn.urls[0], "turn", "udp", true],
      [turnTcp.urls[0], "turn", "tcp", true],
    ], `each URL checked: ${H.json(report)}`);
    for (const check of report.checks) {
      H.ok(typeof check.ms === "number" && check.ms >= 0 && check.ms < 5000, `a time for ${H.json(check)}`);
      H.eq([check.errorCode, check.errorText], [null, null], `no error for ${check.url}`);
    }
    H.eq(report.verdict, "direct", "verdict");
    H.eq(report.relayTransports, ["udp", "tcp"], "relayTransports");
    H.ok(report.durationMs >= 0 && report.durationMs <= elapsed + 50, `durationMs ${report.durationMs}`);
    noCredential(report);
    allClosed("explicit servers");
    await H.figure(`preflight against coturn: ${report.checks.map((c) => `${c.kind}/${c.transport} ${c.ms} ms`).join(", ")}; total ${report.durationMs} ms`);

    // No options: the manager's servers, as getIceServers() gives them.
    const managed = await manager.preflight();
    H.eq(summary(managed), [[stun.urls[0], "stun", "udp", true], [turn.urls[0], "turn", "udp", true]], "the manager's servers");
    H.eq([managed.verdict, managed.relayTransports], ["direct", ["udp"]], "verdict on the manager's servers");
    noCredential(managed);
    allClosed("the manager's servers");
  } finally {
    restore();
  }
}

export async function a_wrong_turn_credential_is_named_401(H) {
  const { manager, turn, allClosed, noCredential, summary, restore } = await setUp(H);
  try {
    const wrong = { ...turn, credential: "not-the-secret" };
    const report = await manager.preflight({ iceServers: [wrong], timeoutMs: 5000 });
    H.eq(summary(report), [[turn.urls[0], "turn", "udp", false]], `the check failed: ${H.json(report)}`);
    const [check] = report.checks;
    H.eq([check.ms, check.errorCode], [null, 401], `401 named: ${H.json(check)}`);
    H.ok(typeof check.errorText === "string" && check.errorText.length > 0, `a reason: ${H.json(check)}`);
    H.eq([report.verdict, report.relayTransports], ["blocked", []], "verdict");
    noCredential(report, "not-the-secret");
    allClosed("wrong credential");
    await H.figure(`preflight, wrong TURN credential: ${check.errorCode} "${check.errorText}" after ${report.durationMs} ms`);
  } finally {
    restore();
  }
}

export async function a_port_that_never_answers_fails_within_the_deadline(H) {
  const { manager, turn, allClosed, noCredential, summary, restore } = await setUp(H);
  try {
    const { port } = await (await fetch(H.url("/silent-port"))).json();
    const deadline = 1500;
    const silent = [{ urls: [`stun:127.0.0.1:${port}`] },
      { ...turn, urls: [`turn:127.0.0.1:${port}?transport=udp`] }];
    const started = performance.now();
    const report = await manager.preflight({ iceServers: silent, timeoutMs: deadline });
    const elapsed = performance.now() - started;
    H.eq(summary(report), [[silent[0].urls[0], "stun", "udp", false], [silent[1].urls[0], "turn", "udp", false]],
      `both failed: ${H.json(report)}`);
    for (const check of report.checks) {
      H.ok(check.ms === null && typeof check.errorText === "string", `a reason: ${H.json(check)}`);
    }
    H.eq([report.verdict, report.relayTransports], ["blocked", []], "verdict");
    // Side by side, each bounded: the whole run ends near one deadline
    // (the margin is for a loaded machine; the time is printed).
    H.ok(elapsed < deadline + 1500, `ended within the deadline: ${elapsed} ms`);
    noCredential(report);
    allClosed("silent port");
    await H.figure(`preflight, silent port, deadline ${deadline} ms: ended after ${Math.round(elapsed)} ms (${report.checks.map((c) => c.errorText).join("; ")})`);
  } finally {
    restore();
  }
}

export async function stun_alone(H) {
  const { manager, stun, allClosed, summary, restore } = await setUp(H);
  try {
    const report = await manager.preflight({ iceServers: [stun] });
    H.eq(summary(report), [[stun.urls[0], "stun", "udp", true]], `one STUN check: ${H.json(report)}`);
    H.eq([report.verdict, report.relayTransports], ["direct", []], "verdict");
    allClosed("STUN alone");
    // Bad options reject with a TypeError; no server at all is "blocked".
    for (const options of [{ timeoutMs: 0 }, { timeoutMs: "soon" }, { iceServers: "stun:x" }]) {
      const error = await H.rejection(manager.preflight(options), H.json(options));
      H.ok(error instanceof TypeError, `${H.json(options)}: ${error}`);
    }
    const none = await manager.preflight({ iceServers: [] });
    H.eq([none.checks, none.verdict, none.relayTransports], [[], "blocked", []], "no servers");
    // The manager's servers cannot be had: the IceServersError, as getIceServers() gives it.
    const broken = H.manager({ endpoint: H.url(`/ice/${H.name("unscripted")}`), token: "tok", retries: 0 });
    const error = await H.rejection(broken.preflight(), "preflight without servers");
    H.eq([error.name, error.kind, error.status], ["IceServersError", "http", 404], `the fetch's error: ${error}`);
  } finally {
    restore();
  }
}
