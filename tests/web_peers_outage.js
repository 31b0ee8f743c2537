// TURN going away mid-call: one exported function per test of
// tests/web_peers_outage.rs, run by tests/support/browser.rs with the helpers
// `H` (tests/support/helpers.js).

/**
 * A relayed call through the fixture's coturn; TURN stops, and starts again
 * `holdMs` after either side saw the drop: the call must come back through an
 * ICE restart, still relayed.
 */
async function turnOutage(H, holdMs) {
  const { manager, relayOnly, candidateTypes } = H.turnManager();
  const p = await H.pair(manager, { caller: relayOnly, callee: relayOnly });
  await H.connected(p, 20000);
  const r = p.ev.caller;
  // Either side may restart (perfect negotiation); count both sides' offers.
  const allOffers = () => [p.ev.caller, p.ev.callee].map((e) => e.signals.filter((s) => s === "offer").length)
    .reduce((a, b) => a + b, 0);
  const offersBefore = allOffers();
  const sides = [p.ev.caller, p.ev.callee];
  const before = sides.map((e) => e.states.length);
  const statesBefore = before[0];
  const dropped = (e, i) => e.states.slice(before[i]).some((s) => s === "disconnected" || s === "failed");
  const t0 = performance.now();
  await H.turnStop();
  let tDrop, tBack;
  try {
    // Whichever side notices first acts (Firefox can take its time on one side).
    await H.waitFor(() => sides.some(dropped), 40000,
      () => `disconnected/failed after TURN stopped, states ${H.json(sides.map((e, i) => e.states.slice(before[i])))}`);
    tDrop = performance.now();
    await H.sleep(holdMs); // TURN stays down this long after the drop
    const e = sides.find(dropped), i = sides.indexOf(e);
    H.ok(["poor", "failed"].includes(e.qualities[e.states.findIndex((s, j) => j >= before[i] && (s === "disconnected" || s === "failed"))]),
      `quality at the drop: ${H.json(e.qualities.slice(before[i]))}`);
  } finally {
    await H.turnStart();
  }
  await H.waitFor(() => p.caller.quality === "good" && p.callee.quality === "good" && allOffers() > offersBefore, 60000,
    () => `good again after TURN restarted, states ${H.json(r.states.slice(statesBefore))}, signals ${H.json(r.signals)}, errors ${H.json(r.errors)}`);
  tBack = performance.now();
  const offers = allOffers();
  H.ok(offers > offersBefore, `an ICE-restart offer was sent by either side (${offers} offers, ${offersBefore} before)`);
  H.eq(p.ev.caller.closes, 0, "the caller did not give up");
  // The callee selects its new pair a moment after the caller is back.
  let types = [];
  await H.waitFor(async () => (types = await candidateTypes(p)).every((t) => t === "relay"), 5000,
    () => `still relayed on both sides: ${H.json(types)}`);
  await H.figure(`TURN stop/start (held ${holdMs} ms): drop seen ${(tDrop - t0).toFixed(0)} ms after stop, good again ` +
    `${(tBack - tDrop).toFixed(0)} ms after the drop; caller states ${H.json(r.states.slice(statesBefore))}; offers ${offers}`);
}

export async function turn_stopped_mid_call_recovers_through_ice_restart(H) {
  await turnOutage(H, 0);
}

/**
 * TURN stays down 2.5 s after the drop, so the first restart (at +500 ms) starts
 * while it is unreachable; the call must still come back once it returns.
 */
export async function turn_down_for_a_while_after_the_drop_still_recovers(H) {
  await turnOutage(H, 2500);
}

/** TURN never comes back: both sides give up after their attempts. */
export async function turn_gone_for_good_closes_both_sides(H) {
  const turnName = H.name("gone");
  const manager = H.manager({ endpoint: H.url(`/turn/${turnName}?ttl=3600`), token: "tok",
    disconnectedTimeoutMs: 300, restartTimeoutMs: 1000, restartAttempts: 2 });
  const relayOnly = { iceTransportPolicy: "relay" };
  const p = await H.pair(manager, { caller: relayOnly, callee: relayOnly });
  await H.connected(p, 20000);
  const t0 = performance.now();
  let closedAt = {};
  await H.turnStop();
  try {
    await H.waitFor(() => {
      for (const side of ["caller", "callee"]) {
        if (p.ev[side].closes && !closedAt[side]) closedAt[side] = performance.now();
      }
      return p.ev.caller.closes && p.ev.callee.closes;
    }, 45000, () => `both closed: caller ${p.ev.caller.closes}, callee ${p.ev.callee.closes}, ` +
      `states ${H.json({ caller: p.ev.caller.states, callee: p.ev.callee.states })}`);
  } finally {
    await H.turnStart();
  }
  H.eq([p.ev.caller.closes, p.ev.callee.closes], [1, 1], "onClose once on each side");
  H.eq([p.caller.quality, p.callee.quality], ["failed", "failed"], "qualities");
  H.eq(manager.peerCount, 0, "peerCount");
  await H.figure(`TURN gone: caller closed ${(closedAt.caller - t0).toFixed(0)} ms, callee ` +
    `${(closedAt.callee - t0).toFixed(0)} ms after the stop`);
}

/**
 * A restart on a healthy call counts as an attempt under way on the other
 * side; when its timer ends, the call has received something (here only ICE
 * consent checks, as the call is idle), so nothing restarts again or closes.
 */
export async function a_live_call_survives_the_answering_sides_check(H) {
  const name = H.name("live");
  const endpoint = await H.script(name, [{ body: { success: true, data: { ttl: 3600,
    iceServers: [{ urls: "stun:127.0.0.1:47478" }] } } }]);
  // The callee's watch: 300 ms + 1 x 1000 ms + 5 s margin = 6.3 s.
  const manager = H.manager({ endpoint, token: "tok",
    disconnectedTimeoutMs: 300, restartTimeoutMs: 1000, restartAttempts: 1 });
  const p = await H.pair(manager);
  await H.connected(p, 15000);
  const offers = () => p.ev.caller.signals.filter((s) => s === "offer").length;
  const before = offers();
  p.caller.restartIce();
  await H.waitFor(() => offers() > before, 5000, () => "a restart offer");
  await H.sleep(9000); // past the watch, with room for its stats check
  H.eq([p.ev.caller.closes, p.ev.callee.closes], [0, 0], "nobody closed");
  H.eq([p.caller.quality, p.callee.quality], ["good", "good"], "qualities");
}
