// Two peers in one page calling each other over loopback: one exported function
// per test of tests/web_peers.rs, run by tests/support/browser.rs with the
// helpers `H` (tests/support/helpers.js).

/**
 * A manager whose endpoint answers STUN on the fixture's coturn (host
 * candidates on loopback are enough to connect).
 */
async function stunManager(H) {
  const serversName = H.name("stun");
  const endpoint = await H.script(serversName, [{ body: { success: true, data: { ttl: 3600,
    iceServers: [{ urls: "stun:127.0.0.1:47478" }] } } }]);
  return H.manager({ endpoint, token: "tok" });
}

export async function two_peers_connect_over_loopback(H) {
  const manager = await stunManager(H);
  const p = await H.pair(manager);
  await H.connected(p, 15000);
  for (const side of ["caller", "callee"]) {
    const r = p.ev[side];
    H.eq(r.connects, 1, `${side} onConnect calls`);
    const peer = p[side];
    H.eq(peer.quality, "good", `${side}.quality`);
    H.ok(["connected", "completed"].includes(peer.iceConnectionState), `${side}.iceConnectionState ${peer.iceConnectionState}`);
    H.ok(r.states.includes("checking"), `${side} went through checking: ${H.json(r.states)}`);
    const firstGood = r.qualities.indexOf("good");
    H.ok(firstGood > 0 && r.qualities.slice(0, firstGood).every((q) => q === "connecting"),
      `${side} qualities: connecting then good: ${H.json(r.qualities)}`);
    r.states.forEach((s, i) => H.eq(r.qualities[i], { new: "connecting", checking: "connecting",
      connected: "good", completed: "good", disconnected: "poor", failed: "failed", closed: "failed" }[s],
      `${side} quality for ${s}`));
    H.eq(r.errors, [], `${side} errors`);
  }
  H.eq(p.ev.caller.signals[0], "offer", "caller's first signal");
  H.ok(p.ev.callee.signals.includes("answer"), "callee answered");
  H.eq(manager.peerCount, 2, "peerCount");
  await H.sleep(300); // onConnect must not fire again (e.g. on completed)
  H.eq([p.ev.caller.connects, p.ev.callee.connects], [1, 1], "onConnect calls after a while");
  await H.figure(`loopback host connect: caller ${(p.ev.caller.connectedAt - p.ev.t0).toFixed(0)} ms, ` +
    `callee ${(p.ev.callee.connectedAt - p.ev.t0).toFixed(0)} ms after createPeer`);
}

export async function media_streams_arrive_both_ways(H) {
  const manager = await stunManager(H);
  const local1 = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const local2 = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  try {
    const p = await H.pair(manager, { caller: { stream: local1 }, callee: { stream: local2 } });
    await H.connected(p, 15000);
    await H.waitFor(() => p.ev.callee.streams.length > 0 && p.ev.caller.streams.length > 0, 10000,
      () => `streams: callee ${p.ev.callee.streams.length}, caller ${p.ev.caller.streams.length}`);
    const kinds = (s) => s.getTracks().map((t) => t.kind).sort();
    H.eq(p.ev.callee.streams.length, 1, "streams at the callee");
    H.eq(kinds(p.ev.callee.streams[0]), ["audio", "video"], "callee receives audio and video");
    H.eq(p.ev.callee.streams[0].id, local1.id, "callee's stream is the caller's stream");
    H.eq(kinds(p.ev.caller.streams[0]), ["audio", "video"], "caller receives audio and video");
    H.eq(p.ev.caller.streams[0].id, local2.id, "caller's stream is the callee's stream");
    await H.waitFor(async () => (await p.callee.stats()).bytesReceived > 0, 10000, "callee bytesReceived > 0");
    const stats = await p.callee.stats();
    H.eq(stats.localCandidateType, "host", "local candidate type on loopback");
    await H.figure(`media call stats at callee: ${H.json(stats)}`);
  } finally {
    for (const s of [local1, local2]) s.getTracks().forEach((t) => t.stop());
  }
}

/**
 * `signal()` called from inside one of the peer's own handlers cannot be
 * applied at once (the peer is in the middle of an update): its promise
 * resolves, and a failure reaches `onError` instead of being lost.
 */
export async function a_signal_from_inside_a_handler_reports_its_failure(H) {
  const manager = await stunManager(H);
  const errors = [];
  let calleeSignal = null;
  const callee = await manager.createPeer({ initiator: false, handlers: {
    onSignal: (data) => {
      if (data.type !== "answer") return;
      // A candidate no description has: addIceCandidate fails.
      calleeSignal = callee.signal({ type: "candidate",
        candidate: { candidate: "candidate:1 1 udp 1 203.0.113.9 9 typ host ufrag nobody", sdpMid: "nope" } });
    },
    onError: (e) => errors.push(String(e && e.name)),
  } });
  const caller = await manager.createPeer({ initiator: true, handlers: {
    onSignal: (data) => data.type === "offer" && callee.signal(data),
  } });
  await H.waitFor(() => calleeSignal !== null, 10000, () => "the callee answered");
  await calleeSignal; // resolves: nobody would have caught a rejection
  await H.waitFor(() => errors.length > 0, 5000, () => "onError for the failed candidate");
  caller.close();
  callee.close();
}

export async function candidates_before_the_offer_are_queued(H) {
  const manager = await stunManager(H);
  const p = await H.pair(manager, { scramble: 400 });
  await H.connected(p, 15000);
  const offerAt = p.ev.toCallee.indexOf("offer");
  H.ok(offerAt > 0 && p.ev.toCallee.slice(0, offerAt).every((t) => t === "candidate"),
    `candidates reached the callee before the offer: ${H.json(p.ev.toCallee)}`);
  H.eq(p.ev.callee.errors, [], "callee errors");
  H.eq(p.ev.caller.errors, [], "caller errors");
}

export async function subscribe_until_unsubscribed(H) {
  const manager = await stunManager(H);
  const p = await H.pair(manager);
  let kept = 0, dropped = 0, seenGood = false;
  p.caller.subscribe(() => { kept += 1; if (p.caller.quality === "good") seenGood = true; });
  const unsubscribe = p.caller.subscribe(() => (dropped += 1));
  H.eq(typeof unsubscribe, "function", "subscribe returns a function");
  await H.connected(p, 15000);
  H.ok(seenGood, "a listener saw quality good");
  H.eq(kept, p.ev.caller.states.length, "one call per state change");
  H.eq(dropped, kept, "both listeners called alike while subscribed");
  unsubscribe();
  const before = { kept, dropped };
  p.caller.close(); // a last change: the closed state
  H.eq(kept, before.kept + 1, "the subscribed listener hears the close");
  H.eq(dropped, before.dropped, "the unsubscribed listener does not");
}

/**
 * React calls `subscribe` unbound (`useSyncExternalStore(peer.subscribe, ...)`),
 * and apps pass `peer.signal` to their socket; both must not need `this`.
 */
export async function methods_work_when_passed_as_callbacks(H) {
  const manager = await stunManager(H);
  const p = await H.pair(manager);
  const { subscribe, close } = p.caller;
  let calls = 0;
  const unsubscribe = subscribe(() => (calls += 1));
  await H.connected(p, 15000);
  H.ok(calls > 0, "an unbound subscribe still delivers changes");
  unsubscribe();
  const signal = p.callee.signal;
  let rejected = null;
  await signal({ type: "bogus" }).catch((e) => (rejected = e));
  H.eq(rejected && rejected.name, "TypeError", "an unbound signal still validates its input");
  close();
  H.eq(p.caller.iceConnectionState, "closed", "an unbound close closes the peer");
}

export async function set_event_handlers_replaces_them(H) {
  const manager = await stunManager(H);
  const p = await H.pair(manager);
  // Before the callee has heard anything: swap in new handlers that still forward signals.
  const replaced = H.recorder("callee-2");
  replaced.send = p.ev.callee.send;
  p.callee.setEventHandlers(H.handlersFor(replaced));
  await H.waitFor(() => p.ev.caller.connects === 1 && replaced.connects === 1, 15000,
    () => `connects: caller ${p.ev.caller.connects}, new callee handlers ${replaced.connects}`);
  H.eq([p.ev.callee.connects, p.ev.callee.states.length, p.ev.callee.signals.length], [0, 0, 0],
    "the old handlers are not called");
  H.ok(replaced.signals.includes("answer"), "the new onSignal sent the answer");
  p.callee.close();
  H.eq([replaced.closes, p.ev.callee.closes], [1, 0], "onClose: new handlers only");
  H.ok(H.thrown(() => p.caller.setEventHandlers({ onClose: 5 }), "bad handler") instanceof TypeError,
    "a non-function handler is a TypeError");
  // Each member is checked, and the message names the one that is wrong.
  for (const name of ["onSignal", "onConnect", "onStream", "onIceStateChange", "onClose", "onError",
            "onNetworkQualityChange"]) {
    const error = H.thrown(() => p.caller.setEventHandlers({ onClose() {}, [name]: "x" }), name);
    H.eq(error.message, `PeerEventHandlers.${name} must be a function`, "the bad member is named");
  }
}

/** E.g. Chrome's 500-connection cap: `new RTCPeerConnection` throws. */
export async function constructor_error_reaches_on_error_and_nothing_breaks(H) {
  const manager = await stunManager(H);
  const original = window.RTCPeerConnection;
  const failure = new DOMException("Cannot create so many PeerConnections", "UnknownError");
  window.RTCPeerConnection = function () { throw failure; };
  const errors = [];
  let rejected = null;
  try {
    await manager.createPeer({ initiator: true, handlers: { onError: (e) => errors.push(e) } })
      .catch((e) => (rejected = e));
  } finally {
    window.RTCPeerConnection = original;
  }
  H.ok(rejected === failure, `createPeer rejects with the constructor's error, got ${rejected}`);
  H.ok(errors.length === 1 && errors[0] === failure, `onError once with it, got ${errors.length}`);
  H.eq(manager.peerCount, 0, "no peer registered");
  const p = await H.pair(manager);
  await H.connected(p, 15000);
  H.eq(manager.peerCount, 2, "the manager still makes working peers");
}

/**
 * An app that drops everything without close(): the connections must not
 * be left running with handlers that point at freed closures, and no
 * handler runs from inside the release (which may be the GC's cleanup).
 */
export async function freeing_manager_and_handles_closes_open_peers(H) {
  const manager = await stunManager(H);
  const p = await H.pair(manager);
  await H.connected(p, 15000);
  const pcs = [p.caller.connection, p.callee.connection];
  manager.free();
  H.eq(pcs.map((pc) => pc.signalingState), ["stable", "stable"], "handles still own their peers");
  p.caller.free();
  p.callee.free();
  // In-flight work (a trickled candidate being added) also owns the peer
  // until it finishes, so the close can come a moment later.
  await H.waitFor(() => pcs.every((pc) => pc.signalingState === "closed"), 2000,
    () => `connections closed with their last owner: ${H.json(pcs.map((pc) => pc.signalingState))}`);
  H.eq(pcs.map((pc) => pc.oniceconnectionstatechange), [null, null], "handlers detached");
  // Freeing is the garbage collector's path: no app code runs from it.
  H.eq([p.ev.caller.closes, p.ev.callee.closes], [0, 0], "no onClose from a free");
}

export async function close_detaches_everything_and_nothing_fires_after(H) {
  const manager = await stunManager(H);
  const p = await H.pair(manager);
  await H.connected(p, 15000);
  H.eq(manager.peerCount, 2, "peerCount before close");
  const pc = p.caller.connection;
  p.caller.close();
  p.caller.close();
  H.eq(p.ev.caller.closes, 1, "onClose calls after close() twice");
  H.eq(p.ev.caller.states.at(-1), "closed", "last state reported");
  for (const k of ["onicecandidate", "oniceconnectionstatechange", "ontrack", "onnegotiationneeded", "onicecandidateerror"]) {
    H.eq(pc[k], null, `connection.${k} after close`);
  }
  H.eq(pc.connectionState, "closed", "connection.connectionState");
  H.eq(pc.signalingState, "closed", "connection.signalingState");
  H.eq(p.caller.iceConnectionState, "closed", "peer.iceConnectionState");
  H.eq(p.caller.quality, "failed", "peer.quality");
  H.eq(manager.peerCount, 1, "peerCount after close");
  const snapshot = H.json(p.ev.caller);
  // The other side keeps talking: a restart offer's worth of signals, then it closes.
  p.callee.restartIce();
  await p.caller.signal({ type: "candidate", candidate: { candidate: "", sdpMid: "0", sdpMLineIndex: 0 } });
  await p.caller.signal({ type: "answer", sdp: "v=0\r\n" });
  p.caller.restartIce();
  await H.sleep(200);
  p.callee.close();
  await H.sleep(1500); // a window in which a stray callback would show
  H.eq(H.json(p.ev.caller), snapshot, "nothing fired on the closed peer");
  H.eq(manager.peerCount, 0, "peerCount after both closed");
  H.eq(p.ev.callee.closes, 1, "callee onClose");
}

export async function destroy_closes_every_peer(H) {
  const manager = await stunManager(H);
  const a = await H.pair(manager);
  const b = await H.pair(manager);
  await H.connected(a, 15000);
  H.eq(manager.peerCount, 4, "peerCount before destroy");
  const connections = [a.caller, a.callee, b.caller, b.callee].map((peer) => peer.connection);
  manager.destroy();
  H.eq(manager.peerCount, 0, "peerCount after destroy");
  H.eq(connections.map((c) => c.connectionState), ["closed", "closed", "closed", "closed"], "connection states");
  H.eq([a.ev.caller, a.ev.callee, b.ev.caller, b.ev.callee].map((r) => r.closes), [1, 1, 1, 1], "onClose per peer");
  const error = await H.rejection(manager.createPeer({ initiator: true, iceServers: [{ urls: "stun:127.0.0.1:47478" }] }), "createPeer after destroy");
  H.ok(error instanceof Error, `createPeer after destroy rejects with an Error: ${error}`);
}

export async function network_quality_is_measured_on_a_live_call(H) {
  const manager = await stunManager(H);
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
  const p = await H.pair(manager, { caller: { stream } });
  H.eq([p.caller.networkQuality, p.callee.networkQuality], ["unknown", "unknown"], "before any sample");
  const changes = [];
  let notified = 0;
  p.callee.subscribe(() => notified++);
  p.callee.setEventHandlers({ ...H.handlersFor(p.ev.callee),
    onNetworkQualityChange: (level, stats) => changes.push({ level, stats }) });
  await H.connected(p, 15000);
  // The first sample is taken 500 ms after connecting.
  await H.waitFor(() => changes.length > 0, 8000, () => `a network quality change: ${H.json(changes)}`);
  const { level, stats } = changes[0];
  H.ok(["excellent", "good"].includes(level), `a loopback call grades excellent or good: ${H.json(changes[0])}`);
  H.eq(p.callee.networkQuality, level, "the getter follows the handler");
  H.ok(stats.mos >= 3.6 && stats.mos <= 4.5, `MOS ${stats.mos}`);
  H.eq(stats.packetLossPct, 0, "no loss on loopback");
  // The callee sends nothing: graded on what it receives alone.
  H.eq([stats.send, stats.receive && stats.receive.mos], [null, stats.mos], `directions: ${H.json(stats)}`);
  H.ok(typeof stats.jitterMs === "number" && typeof stats.roundTripTimeMs === "number", H.json(stats));
  H.ok(notified > 0, "subscribers notified");
  await H.waitFor(() => p.caller.networkQuality !== "unknown", 8000, "the caller's level");
  p.callee.close();
  H.eq(p.callee.networkQuality, level, "the last level stays readable after close");
  const after = changes.length;
  await H.sleep(2500); // a sampler left running would report again
  H.eq(changes.length, after, "no network-quality event after close");
}
