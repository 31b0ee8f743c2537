// Runs inside each client's page (page.evaluate), which the backend serves
// with the demo: the library used as an app would use it, through the demo's
// own room client (/room.js: the backend's signaling WebSocket, resumed when
// the socket dies). Servers come from the backend with a demo JWT. Without a
// `room`, the page creates one for itself and `peer` and returns its id. Every
// ICE state is recorded; the Node side reads `window.lab` and calls `window.labStats()`.
async ({ room, sub, peer, explicitServers, relay, expireFirstServers }) => {
  const lab = (window.lab = {
    states: [], candidateErrors: [], log: [], serverFetches: 0, t0: null, goodAt: null, closed: false,
    // [ms since epoch, what]: the lab lines these up with the moment it moved an address.
    wall: [],
  });
  const mark = (what) => lab.wall.push([Date.now(), what]);
  for (const name of ["online", "offline"]) window.addEventListener(name, () => mark(`browser: ${name}`));
  navigator.connection?.addEventListener("change", () => mark("browser: connection change"));
  // Offers and answers as they cross the signaling socket (seq numbers, not contents).
  const describeSignal = (text) => {
    const m = JSON.parse(text);
    return m.type === "signal" && m.data?.type !== "candidate" ? `#${m.seq} ${m.data.type}` : null;
  };
  window.WebSocket = class extends window.WebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const what = describeSignal(e.data);
        if (what) mark(`got ${what}`);
      });
    }
    send(text) {
      const what = describeSignal(text);
      if (what) mark(`sent ${what}${this.readyState === 1 ? "" : " (socket not open)"}`);
      super.send(text);
    }
  };
  const mod = await import("/pkg/ice_peer.js");
  await mod.default();
  const { joinRoom } = await import("/room.js");

  // Count the ICE-servers requests; with `expireFirstServers`, the first
  // answer's TURN usernames are replaced by one that expired long ago (the
  // same as credentials that outlived their ttl: TURN answers 401).
  const realFetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const servers = String(input).includes("/api/calls/ice-servers");
    if (servers) mark("ice-servers fetched");
    const response = await realFetch(input, init);
    if (!servers) return response;
    mark(`ice-servers answered ${response.status}`);
    lab.serverFetches += 1;
    if (!expireFirstServers || lab.serverFetches > 1) return response;
    const body = await response.json();
    for (const server of body.data.iceServers) if (server.username) server.username = "1000000000:expired";
    return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
  };

  const tokenResponse = await realFetch("/api/dev/token", { method: "POST", body: JSON.stringify({ sub }) });
  const { token } = await tokenResponse.json();
  if (!room) {
    const created = await realFetch("/api/calls/rooms", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ peer }),
    });
    if (created.status !== 201) throw new Error(`POST /api/calls/rooms answered ${created.status}`);
    room = (await created.json()).data.room;
  }
  const manager = new mod.PeerManager({ token: () => token });
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
  const since = () => Math.round(performance.now() - lab.t0);
  const events = {
    state: (_who, state, quality) => {
      lab.states.push([since(), state]);
      mark(`ice: ${state}`);
      if (quality === "good" && lab.goodAt === null) lab.goodAt = since();
    },
    stream: () => {},
    close: (who) => who === "me" && (lab.closed = true),
    error: (_who, e) => lab.log.push(`error: ${e.message}`),
    ended: (e) => lab.log.push(`ended: ${e.message}`),
    note: (text) => {
      // The peer is created right after "joined": createPeer → good is timed from here.
      if (text.startsWith("joined") && lab.t0 === null) lab.t0 = performance.now();
      lab.log.push(text);
      mark(`room: ${text}`);
    },
  };
  joinRoom(manager, { room, token, stream, policy: relay ? "relay" : "all", iceServers: explicitServers, events })
    .then(({ peer }) => {
      lab.peer = peer;
      peer.connection.addEventListener("icecandidateerror", (e) =>
        lab.candidateErrors.push({ code: e.errorCode, url: e.url }));
    })
    .catch((e) => lab.log.push(`join: ${e.message}`));

  // The selected pair as getStats() describes it, next to the library's summary.
  window.labStats = async () => {
    if (!lab.peer) return null;
    const summary = await lab.peer.stats();
    const report = await lab.peer.connection.getStats();
    let pair = null;
    report.forEach((r) => {
      if (r.type === "transport" && r.selectedCandidatePairId) pair = report.get(r.selectedCandidatePairId);
    });
    const local = pair && report.get(pair.localCandidateId);
    const remote = pair && report.get(pair.remoteCandidateId);
    const gathered = [];
    report.forEach((r) => r.type === "local-candidate" && gathered.push(r.candidateType));
    // Media bytes whatever pair carried them (the selected pair's count
    // starts again from zero when an ICE restart selects a new pair).
    let mediaBytesReceived = 0;
    report.forEach((r) => r.type === "inbound-rtp" && (mediaBytesReceived += r.bytesReceived ?? 0));
    // Both directions as the browser reports them: what arrives here (inbound
    // RTP, cumulative), and what the other side says of what we send (its
    // last receiver report).
    let inboundLost = 0, inboundReceived = 0, sendFractionLost = null, sendRttMs = null;
    report.forEach((r) => {
      if (r.type === "inbound-rtp") {
        inboundLost += r.packetsLost ?? 0;
        inboundReceived += r.packetsReceived ?? 0;
      }
      if (r.type === "remote-inbound-rtp") {
        sendFractionLost = r.fractionLost ?? null;
        sendRttMs = r.roundTripTime == null ? null : Math.round(r.roundTripTime * 1000);
      }
    });
    return {
      quality: lab.peer.quality,
      networkQuality: lab.peer.networkQuality,
      state: lab.peer.iceConnectionState,
      localType: summary.localCandidateType,
      remoteType: remote ? remote.candidateType : null,
      relayProtocol: local ? local.relayProtocol ?? null : null,
      localAddress: local ? local.address : null,
      bytesReceived: summary.bytesReceived,
      mediaBytesReceived,
      gathered: [...new Set(gathered)],
      inboundLost, inboundReceived, sendFractionLost, sendRttMs,
    };
  };
  return room;
};
