// Runs inside each client's page (page.evaluate): the library used as an app
// would use it. Servers come from the backend with a demo JWT, signals go
// through the backend's signaling WebSocket, every ICE state is recorded.
// Returns nothing; the Node side reads `window.lab` and calls `window.labStats()`.
async ({ room, sub, explicitServers, relay, expireFirstServers }) => {
  const lab = (window.lab = {
    states: [], candidateErrors: [], log: [], serverFetches: 0, signals: [],
    t0: null, goodAt: null, closed: false, initiator: null,
  });
  const mod = await import("/pkg/ice_peer.js");
  await mod.default();

  // Count the ICE-servers requests; with `expireFirstServers`, the first
  // answer's TURN usernames are replaced by one that expired long ago (the
  // same as credentials that outlived their ttl: TURN answers 401).
  const realFetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const response = await realFetch(input, init);
    if (!String(input).includes("/api/calls/ice-servers")) return response;
    lab.serverFetches += 1;
    if (!expireFirstServers || lab.serverFetches > 1) return response;
    const body = await response.json();
    for (const server of body.data.iceServers) if (server.username) server.username = "1000000000:expired";
    return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
  };

  const tokenResponse = await realFetch("/api/dev/token", { method: "POST", body: JSON.stringify({ sub }) });
  const { token } = await tokenResponse.json();
  const manager = new mod.PeerManager({ token: () => token });
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });

  // Signaling, as a careful app does it: a ping every second; a socket that
  // stays silent 2.5 s (its address is gone, say), closes, or whose call
  // drops is replaced by a new one that resumes the same seat; whenever
  // either side resumed, the offering side restarts ICE (what was sent to a
  // dead socket is lost).
  let peer = null;
  let socket = null;
  let resumeKey = null;
  let lastHeard = performance.now();
  let reconnects = 0;
  const held = [];
  const send = (message) => socket && socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(message));
  const apply = (data) => peer.signal(data).catch((e) => lab.log.push(`signal(${data.type}): ${e.message}`));
  const restartIfOffering = () => {
    if (peer && lab.initiator) peer.restartIce();
  };
  const start = async (initiator) => {
    lab.initiator = initiator;
    lab.t0 = performance.now();
    const created = await manager.createPeer({
      initiator,
      stream,
      iceServers: explicitServers,
      iceTransportPolicy: relay ? "relay" : "all",
      handlers: {
        onSignal: (data) => {
          lab.signals.push(`→${data.type}@${Math.round(performance.now() - lab.t0)}`);
          send({ type: "signal", data });
        },
        onIceStateChange: (state, quality) => {
          const at = Math.round(performance.now() - lab.t0);
          lab.states.push([at, state]);
          if (quality === "good" && lab.goodAt === null) lab.goodAt = at;
          if (state === "disconnected" || state === "failed") connect("call dropped");
        },
        onError: (e) => lab.log.push(`onError: ${e.message}`),
        onClose: () => (lab.closed = true),
      },
    });
    created.connection.addEventListener("icecandidateerror", (e) =>
      lab.candidateErrors.push({ code: e.errorCode, url: e.url }));
    peer = created;
    lab.peer = peer;
    while (held.length) await apply(held.shift());
  };
  const connect = (why) => {
    if (socket && why !== "first" && reconnects++ > 20) return;
    if (why !== "first") lab.log.push(`signaling reconnect (${why})`);
    const old = socket;
    socket = new WebSocket(`ws://${location.host}/api/calls/signal?room=${room}`);
    old?.close();
    lastHeard = performance.now();
    const current = socket;
    current.onopen = () => current.send(JSON.stringify({ type: "auth", token, ...(resumeKey ? { resume: resumeKey } : {}) }));
    current.onclose = () => current === socket && !lab.closed && setTimeout(() => current === socket && connect("closed"), 500);
    current.onmessage = (event) => {
      lastHeard = performance.now();
      const message = JSON.parse(event.data);
      if (message.type === "joined") {
        resumeKey = message.resume;
        if (message.resumed) restartIfOffering();
        else start(message.initiator).catch((e) => lab.log.push(`createPeer: ${e.message}`));
      } else if (message.type === "peer-resumed") restartIfOffering();
      else if (message.type === "signal") {
        if (lab.t0 !== null) lab.signals.push(`←${message.data.type}@${Math.round(performance.now() - lab.t0)}`);
        peer ? apply(message.data) : held.push(message.data);
      } else if (message.type === "error") lab.log.push(`signaling ${message.code}: ${message.message}`);
    };
  };
  connect("first");
  setInterval(() => {
    if (lab.closed) return;
    if (performance.now() - lastHeard > 2500) connect("silent");
    else send({ type: "ping" });
  }, 1000);

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
    return {
      quality: lab.peer.quality,
      networkQuality: lab.peer.networkQuality,
      state: lab.peer.iceConnectionState,
      localType: summary.localCandidateType,
      remoteType: remote ? remote.candidateType : null,
      relayProtocol: local ? local.relayProtocol ?? null : null,
      localAddress: local ? local.address : null,
      bytesReceived: summary.bytesReceived,
      gathered: [...new Set(gathered)],
    };
  };
};
