// Negotiation from either side: one exported function per test of
// tests/web_peers_negotiation.rs, run by tests/support/browser.rs with the
// helpers `H` (tests/support/helpers.js). Signals go through `H.relayPair`.

/**
 * A manager on the fixture's servers (its own coturn, whatever port it runs
 * on); `media(constraints)`: fake devices, stopped by `stopMedia()`; and checks
 * on a pair `p` made with `H.relayPair`.
 */
function setup(H) {
  const manager = H.manager({ endpoint: H.url(`/turn/${H.name("turn")}?ttl=3600`), token: "tok" });
  const streams = [];
  const media = async (constraints) => {
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    streams.push(stream);
    return stream;
  };
  const stopMedia = () => streams.forEach((s) => s.getTracks().forEach((t) => t.stop()));
  const noErrors = (p) => H.eq([p.ev.caller.errors, p.ev.callee.errors], [[], []], "errors (onError and signal() rejections): caller, callee");
  // Audio arrives at both sides within `ms` ("audio at the caller <when>", ...).
  const bothHear = async (p, ms, when) => {
    await H.mediaArrives(p.caller, ms, `audio at the caller ${when}`, { other: p.callee });
    await H.mediaArrives(p.callee, ms, `audio at the callee ${when}`, { other: p.caller });
  };
  // No error and nobody closed.
  const healthy = (p) => {
    noErrors(p);
    H.eq([p.ev.caller.closes, p.ev.callee.closes], [0, 0], "onClose calls");
  };
  return { manager, media, stopMedia, noErrors, bothHear, healthy };
}

/**
 * `body(p, setup(H))` on `p`, an audio call both ways through a relay of
 * `delayMs`, connected, its first negotiation settled and media arriving on
 * both sides; the fake devices are stopped however it ends.
 */
async function audioScenario(H, delayMs, body) {
  const call = setup(H);
  const { manager, media, stopMedia, bothHear } = call;
  try {
    const p = await H.relayPair(manager, { delayMs,
      caller: { stream: await media({ audio: true }) }, callee: { stream: await media({ audio: true }) } });
    await H.connected(p, 15000);
    await H.settles(p, { what: "the first negotiation settles" });
    await bothHear(p, 5000, "");
    await body(p, call);
  } finally {
    stopMedia();
  }
}

export async function callee_restarts_ice_with_its_own_offer(H) {
  await audioScenario(H, 5, async (p, { bothHear, healthy }) => {
    const before = H.negotiationState(p);
    const mark = p.ev.wire.length;
    const t = performance.now();
    p.callee.restartIce();
    await H.waitFor(() => H.descriptionsSince(p, mark).includes("callee:offer"), 5000,
      () => `an offer from the callee after its restartIce(); sent since: ${H.json(H.descriptionsSince(p, mark))}`);
    const offerMs = performance.now() - t;
    const fresh = () => {
      const s = H.negotiationState(p);
      return s.caller.localUfrag !== before.caller.localUfrag && s.callee.localUfrag !== before.callee.localUfrag;
    };
    const settledMs = (await H.settles(p, { extra: fresh, what: "both good and stable with new ICE credentials" })) - t;
    H.ok(H.descriptionsSince(p, mark).includes("caller:answer"), `the caller answered: ${H.json(H.descriptionsSince(p, mark))}`);
    await bothHear(p, 5000, "after the restart");
    for (const side of ["caller", "callee"]) {
      const { advanced, detail } = await H.statsAdvancing(p[side], 3000);
      await H.figure(`callee_restart_stats_advance ${side} ${advanced} (peer.stats().bytesReceived grows after the restart) ${detail}`);
    }
    await bothHear(p, 3000, "seconds later");
    healthy(p);
    await H.figure(`callee_restart_offer_ms ${offerMs.toFixed(0)} (restartIce() to the callee's offer on the wire)`);
    await H.figure(`callee_restart_settled_ms ${settledMs.toFixed(0)} (restartIce() to both good, stable, new ufrags; held for 1 s after); ` +
      `descriptions ${H.json(H.descriptionsSince(p, mark))}`);
  });
}

export async function simultaneous_restarts_converge(H) {
  await audioScenario(H, 50, async (p, { bothHear, healthy }) => {
    const before = H.negotiationState(p);
    const mark = p.ev.wire.length;
    const t = performance.now();
    // The same tick on both sides; the relay's 50 ms make the offers cross in flight.
    p.caller.restartIce();
    p.callee.restartIce();
    const fresh = () => {
      const s = H.negotiationState(p);
      return s.caller.localUfrag !== before.caller.localUfrag && s.callee.localUfrag !== before.callee.localUfrag;
    };
    const settledMs = (await H.settles(p, { extra: fresh, ms: 20000, what: "both good and stable with new ICE credentials" })) - t;
    const sent = H.descriptionsSince(p, mark);
    const count = (x) => sent.filter((s) => s === x).length;
    const collisions = p.ev.wire.slice(mark).filter((w) => w.type === "offer" && w.receiverState === "have-local-offer");
    const counts = { callerOffers: count("caller:offer"), calleeOffers: count("callee:offer"),
      callerAnswers: count("caller:answer"), calleeAnswers: count("callee:answer"), collisions: collisions.length };
    await H.figure(`simultaneous_restarts_settled_ms ${settledMs.toFixed(0)} (held for 1 s after); ${H.json(counts)}; order ${H.json(sent)}`);
    H.ok(counts.callerOffers >= 1 && counts.calleeOffers >= 1, `both sides offered: ${H.json(sent)}`);
    H.ok(collisions.length >= 1, `the offers crossed (an offer reached a side in have-local-offer): ${H.json(sent)}`);
    const answers = counts.callerAnswers + counts.calleeAnswers;
    H.ok(answers >= 1 && answers <= 2, `one or two answers settle it: ${H.json(counts)}`);
    // Every offer sent was either answered or dropped by the impolite side: nothing left half-done.
    H.ok(p.ev.wire.slice(mark).every((w) => w.ok === true), `every signal() resolved: ${H.json(p.ev.wire.slice(mark).filter((w) => w.ok !== true))}`);
    await bothHear(p, 5000, "after the restarts");
    for (const side of ["caller", "callee"]) {
      const { advanced, detail } = await H.statsAdvancing(p[side], 3000);
      await H.figure(`simultaneous_restarts_stats_advance ${side} ${advanced} (peer.stats().bytesReceived grows after the restarts) ${detail}`);
    }
    await bothHear(p, 3000, "seconds later");
    healthy(p);
  });
}

/**
 * Three restartIce() calls per side at random moments within 300 ms, and a
 * relay whose latency varies per message from 0 to 80 ms (in order per
 * direction, as a WebSocket keeps it): offers cross in many ways. The seed
 * is printed with any failure.
 */
export async function a_storm_of_restarts_from_both_sides_converges(H) {
  const { manager, media, stopMedia, bothHear, healthy } = setup(H);
  try {
    let seed = 0x9e3779b9 ^ Date.now();
    const seedUsed = seed >>> 0;
    const random = () => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0) >>> 0) / 2 ** 32;
    const p = await H.relayPair(manager, { delayMs: () => Math.floor(random() * 80),
      caller: { stream: await media({ audio: true }) }, callee: { stream: await media({ audio: true }) } });
    await H.connected(p, 15000);
    await H.settles(p, { what: "the first negotiation settles" });
    const before = H.negotiationState(p);
    const mark = p.ev.wire.length;
    const t = performance.now();
    const calls = [];
    for (const side of ["caller", "callee", "caller", "callee", "caller", "callee"]) {
      calls.push(H.sleep(Math.floor(random() * 300)).then(() => p[side].restartIce()));
    }
    await Promise.all(calls);
    const fresh = () => {
      const s = H.negotiationState(p);
      return s.caller.localUfrag !== before.caller.localUfrag && s.callee.localUfrag !== before.callee.localUfrag;
    };
    const settledMs = (await H.settles(p, { extra: fresh, quietMs: 1500, ms: 30000,
      what: `convergence after the storm (seed ${seedUsed})` })) - t;
    const sent = H.descriptionsSince(p, mark);
    await H.figure(`restart_storm_settled_ms ${settledMs.toFixed(0)} (6 restartIce() in 300 ms; seed ${seedUsed}); ` +
      `${sent.filter((x) => x.endsWith("offer")).length} offers, ${sent.filter((x) => x.endsWith("answer")).length} answers: ${H.json(sent)}`);
    H.ok(p.ev.wire.slice(mark).every((w) => w.ok === true), `every signal() resolved (seed ${seedUsed}): ` +
      H.json(p.ev.wire.slice(mark).filter((w) => w.ok !== true)));
    await bothHear(p, 5000, "after the storm");
    healthy(p);
  } finally {
    stopMedia();
  }
}

/**
 * The polite side asks for a restart before anything was negotiated:
 * the call still starts with the initiator's offer and connects.
 */
export async function callee_restart_before_the_first_offer_is_harmless(H) {
  const { manager, media, stopMedia, noErrors, bothHear } = setup(H);
  try {
    const p = await H.relayPair(manager, { delayMs: 100,
      caller: { stream: await media({ audio: true }) }, callee: { stream: await media({ audio: true }) } });
    p.callee.restartIce();
    await H.connected(p, 15000);
    await H.settles(p, { what: "both good and stable" });
    const sent = H.descriptionsSince(p, 0);
    H.eq(sent[0], "caller:offer", `the first description (the initiator's offer): ${H.json(sent)}`);
    H.ok(p.ev.wire.every((w) => w.ok === true), `every signal() resolved: ${H.json(p.ev.wire.filter((w) => w.ok !== true))}`);
    await bothHear(p, 5000, "");
    noErrors(p);
    await H.figure(`early_callee_restart descriptions ${H.json(sent)}`);
  } finally {
    stopMedia();
  }
}

export async function callee_adds_a_track_and_renegotiates(H) {
  const { manager, media, stopMedia, noErrors } = setup(H);
  try {
    // The caller sends audio, the callee nothing: the first offer has no video at all.
    const p = await H.relayPair(manager, { delayMs: 5, caller: { stream: await media({ audio: true }) } });
    await H.connected(p, 15000);
    await H.settles(p, { what: "the first negotiation settles" });
    H.eq(p.ev.caller.streams.length, 0, "streams at the caller before the callee sends any");
    const before = H.negotiationState(p);
    const mark = p.ev.wire.length;
    const video = await media({ video: true });
    const t = performance.now();
    p.callee.connection.addTrack(video.getVideoTracks()[0], video);
    await H.waitFor(() => p.ev.caller.streams.some((s) => s.id === video.id), 10000,
      () => `the callee's stream at the caller's onStream; descriptions sent since: ${H.json(H.descriptionsSince(p, mark))}, ` +
        `state ${H.json(H.negotiationState(p))}`);
    const streamMs = performance.now() - t;
    const stream = p.ev.caller.streams.find((s) => s.id === video.id);
    H.eq(stream.getTracks().map((track) => track.kind), ["video"], "the stream's tracks");
    await H.settles(p, { what: "good and stable after the renegotiation" });
    const sent = H.descriptionsSince(p, mark);
    H.eq(sent, ["callee:offer", "caller:answer"], "one offer from the callee, one answer");
    const after = H.negotiationState(p);
    H.eq([after.caller.localUfrag, after.callee.localUfrag], [before.caller.localUfrag, before.callee.localUfrag],
      "ICE credentials (adding a track is no ICE restart)");
    await H.waitFor(async () => (await p.caller.stats()).bytesReceived > 0, 5000, "media at the caller");
    noErrors(p);
    await H.figure(`callee_renegotiation_stream_ms ${streamMs.toFixed(0)} (addTrack at the callee to onStream at the caller)`);
  } finally {
    stopMedia();
  }
}

export async function a_track_added_before_the_first_offer_arrives(H) {
  const { manager, media, stopMedia, noErrors } = setup(H);
  try {
    // 200 ms of relay: the callee adds its track while the first offer is still on the way.
    const p = await H.relayPair(manager, { delayMs: 200, caller: { stream: await media({ audio: true }) } });
    const video = await media({ video: true });
    H.eq(p.ev.wire.filter((w) => w.from === "caller" && w.type === "offer" && w.deliveredAt !== null).length, 0,
      "offers delivered to the callee before its addTrack");
    p.callee.connection.addTrack(video.getVideoTracks()[0], video);
    const t = performance.now();
    await H.connected(p, 15000);
    await H.waitFor(() => p.ev.caller.streams.some((s) => s.id === video.id), 10000,
      () => `the callee's early track at the caller; descriptions ${H.json(H.descriptionsSince(p, 0))}, state ${H.json(H.negotiationState(p))}`);
    const settledMs = (await H.settles(p, { what: "both good and stable" })) - t;
    const sent = H.descriptionsSince(p, 0);
    H.ok(p.ev.wire.every((w) => w.ok === true), `every signal() resolved: ${H.json(p.ev.wire.filter((w) => w.ok !== true))}`);
    await H.waitFor(() => p.ev.callee.streams.length === 1, 5000, "the caller's audio at the callee");
    noErrors(p);
    await H.figure(`early_track_settled_ms ${settledMs.toFixed(0)} (addTrack to both good and stable; held for 1 s after); descriptions ${H.json(sent)}`);
  } finally {
    stopMedia();
  }
}

export async function network_change_events_leave_a_healthy_call_alone(H) {
  await audioScenario(H, 5, async (p, { bothHear, noErrors }) => {
    const before = H.negotiationState(p);
    const mark = p.ev.wire.length;
    const statesMark = { caller: p.ev.caller.states.length, callee: p.ev.callee.states.length };
    // Whether the library looked at the call at all (a stats probe soon after
    // the events) is reported, not asserted: it is how it decides, not what it promises.
    const probes = { caller: [], callee: [] };
    for (const side of ["caller", "callee"]) {
      const pc = p[side].connection;
      const getStats = pc.getStats;
      pc.getStats = function (...args) {
        probes[side].push(performance.now());
        return getStats.apply(this, args);
      };
    }
    const t = performance.now();
    window.dispatchEvent(new Event("offline"));
    window.dispatchEvent(new Event("online"));
    const connection = navigator.connection;
    if (connection && typeof connection.dispatchEvent === "function") connection.dispatchEvent(new Event("change"));
    await H.sleep(3000);
    const soon = (side) => probes[side].filter((at) => at - t < 100).length;
    // The library's own samples in the window (the test reads none in it).
    const during = (side) => probes[side].filter((at) => at - t < 3000).length;
    H.eq(H.descriptionsSince(p, mark), [], "offers or answers sent within 3 s of the events");
    const after = H.negotiationState(p);
    const lasting = (s) => ({ quality: s.quality, signaling: s.signaling, localUfrag: s.localUfrag, remoteUfrag: s.remoteUfrag });
    H.eq([lasting(after.caller), lasting(after.callee)], [lasting(before.caller), lasting(before.callee)],
      "quality, signaling state and ICE credentials after 3 s: caller, callee");
    const changes = [p.ev.caller.states.slice(statesMark.caller), p.ev.callee.states.slice(statesMark.callee)];
    H.ok(changes.flat().every((s) => s === "connected" || s === "completed"),
      `ICE stayed connected after the events: caller, callee changes ${H.json(changes)}`);
    await bothHear(p, 3000, "after the events");
    noErrors(p);
    await H.figure(`network_change_on_healthy_call descriptions_sent 0 within 3000 ms; ` +
      `navigator.connection ${connection ? "present" : "absent"}; getStats calls within 100 ms of the events: ` +
      `caller ${soon("caller")}, callee ${soon("callee")} (a probe means the library heard them, or a regular sample, every 500 ms, fell in the window, 1 time in 5); ` +
      `within 3 s (regular samples included): ${during("caller")}, ${during("callee")}`);
  });
}

/**
 * Muting by `sender.replaceTrack(null)` stops RTP while the path stays
 * fine (ICE consent checks go on): nothing to recover, so no ICE restart
 * and no close, however long the mute lasts.
 */
export async function the_other_side_muting_is_not_a_lost_path(H) {
  await audioScenario(H, 5, async (p, { noErrors }) => {
    const mark = p.ev.wire.length;
    const sender = p.callee.connection.getSenders().find((s) => s.track && s.track.kind === "audio");
    H.ok(sender, "the callee sends audio");
    await sender.replaceTrack(null);
    const muted = await H.pathStats(p.caller.connection);
    const t = performance.now();
    await H.sleep(8000);
    const after = await H.pathStats(p.caller.connection);
    H.ok(after.inboundPackets - muted.inboundPackets < 20,
      `the mute stopped RTP at the caller: ${muted.inboundPackets} then ${after.inboundPackets} packets`);
    const sent = H.descriptionsSince(p, mark);
    await H.figure(`remote_mute_8s descriptions ${H.json(sent)}; caller ICE states ${H.json(p.ev.caller.states)}`);
    H.eq(sent, [], `offers or answers sent in the ${(performance.now() - t).toFixed(0)} ms of the mute`);
    H.eq([p.ev.caller.closes, p.ev.callee.closes], [0, 0], "onClose calls");
    H.eq([p.caller.quality, p.callee.quality], ["good", "good"], "qualities");
    await H.mediaArrives(p.callee, 3000, "audio at the callee (the caller still sends)", { other: p.caller });
    noErrors(p);
  });
}
