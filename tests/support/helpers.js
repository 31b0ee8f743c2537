// Test helpers for the browser suites, an ES module: browser.rs imports it once
// per test page, calls `install`, and hands the `H` it returns to every scenario
// (tests/web_*.js). Assertions throw Errors with both values in the message.
/* global gc -- Chrome's, with --js-flags=--expose-gc (webdriver.json) */
const H = {};
/** What the page's wasm provides, from `install`. */
let host = null;

/**
 * Once per page, from browser.rs: `fixture` is the fixture server's URL,
 * `newManager(options)` makes a PeerManager, `wasmMemory` is the module's
 * memory, `externrefs()` counts its live externrefs.
 */
export function install(fixture, newManager, wasmMemory, externrefs) {
  host = { newManager, wasmMemory, externrefs };
  H.fixture = fixture;
  return H;
}

const originalFetch = globalThis.fetch;
const originalConsole = {};
for (const k of ["log", "info", "debug", "warn", "error"]) originalConsole[k] = console[k];
let managers = [];
let unique = 0;

H.url = (path) => H.fixture + path;
/** A name no other test (or earlier run against the same fixture) used. */
H.name = (prefix) => `${prefix}-${Date.now().toString(36)}-${unique++}`;
H.sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- values and assertions ----
const canonical = (value) =>
  JSON.stringify(value, (_key, x) =>
    x && typeof x === "object" && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype
      ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]]))
      : x);
H.json = canonical;
H.eq = (actual, expected, what) => {
  const a = canonical(actual);
  const e = canonical(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
};
H.ok = (condition, what) => {
  if (!condition) throw new Error(`assertion failed: ${what}`);
};
/** The rejection of `promise`; throws if it resolves. */
H.rejection = async (promise, what) => {
  let value;
  try {
    value = await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`${what}: expected a rejection, resolved with ${canonical(value)}`);
};
/** What `fn()` throws; throws if it does not. */
H.thrown = (fn, what) => {
  let value;
  try {
    value = fn();
  } catch (error) {
    return error;
  }
  throw new Error(`${what}: expected a throw, returned ${canonical(value)}`);
};
/** The contract-visible shape of an IceServersError. */
H.errorShape = (e) => ({
  isError: e instanceof Error,
  name: e.name,
  kind: e.kind,
  status: "status" in e ? e.status : "absent",
  attempts: e.attempts,
});
/** Polls `predicate` (may be async) every 10 ms until truthy; throws after `ms`. */
H.waitFor = async (predicate, ms, what) => {
  const deadline = performance.now() + ms;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (performance.now() > deadline) {
      const detail = typeof what === "function" ? what() : what;
      throw new Error(`timed out after ${ms} ms waiting for ${detail}`);
    }
    await H.sleep(10);
  }
};

// ---- the fixture server ----
H.post = async (path, body) => {
  const response = await originalFetch(H.url(path), {
    method: "POST",
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`fixture ${path}: ${response.status} ${await response.text()}`);
  return response.json();
};
/** Scripts `/ice/<name>` (after a reset) and returns its URL. */
H.script = async (name, steps) => {
  await H.post(`/reset/${name}`);
  await H.post(`/script/${name}`, steps);
  return H.url(`/ice/${name}`);
};
/** Replaces the steps without forgetting the log. */
H.rescript = (name, steps) => H.post(`/script/${name}`, steps);
H.log = async (name) => (await originalFetch(H.url(`/log/${name}`))).json();
H.requests = async (name) => (await H.log(name)).length;
H.turnStop = () => H.post("/turn/stop");
H.turnStart = () => H.post("/turn/start");
/** A figure for the report: console (shown on failure) and the fixture's stdout (always). */
H.figure = async (line) => {
  originalConsole.log(line);
  try {
    await H.post("/figure", line);
  } catch {
    // the figure is informative only
  }
};

// ---- the library ----
H.manager = (options) => {
  const manager = host.newManager(options);
  managers.push(manager);
  return manager;
};
/**
 * Full garbage collections (Chrome with --js-flags=--expose-gc, see webdriver.json), with
 * tasks in between so FinalizationRegistry callbacks (wasm-bindgen frees wrappers that
 * way) run and what they release is collected too. Chrome counts a closed
 * RTCPeerConnection against its 500-per-page cap until it is collected.
 */
H.gc = async (rounds = 3) => {
  if (typeof gc !== "function") throw new Error("gc() missing: Chrome needs --js-flags=--expose-gc (webdriver.json)");
  for (let i = 0; i < rounds; i++) {
    gc();
    await H.sleep(0);
  }
};
H.memoryBytes = () => host.wasmMemory.buffer.byteLength;
H.externrefs = () => host.externrefs();
H.stubFetch = (fn) => {
  globalThis.fetch = fn;
};
/** Replaces console.log/info/debug/warn/error; returns the array of lines written. */
H.captureConsole = () => {
  const lines = [];
  const text = (a) => {
    if (typeof a === "string") return a;
    try {
      return JSON.stringify(a);
    } catch {
      return String(a);
    }
  };
  for (const k of Object.keys(originalConsole)) {
    console[k] = (...args) => lines.push(args.map(text).join(" "));
  }
  return lines;
};
/** After every test body: real fetch and console back, managers destroyed. */
H.cleanup = () => {
  globalThis.fetch = originalFetch;
  Object.assign(console, originalConsole);
  for (const manager of managers) {
    try {
      manager.destroy();
    } catch {
      // already freed by the test
    }
  }
  managers = [];
};

// ---- two peers in one page ----
function recorder(name) {
  return {
    name, states: [], qualities: [], connects: 0, closes: 0, streams: [], errors: [],
    signals: [], candidateErrors: [], connectedAt: null, afterClose: 0,
  };
}
function handlersFor(r) {
  return {
    onSignal: (s) => {
      r.signals.push(s.type);
      r.send(s);
    },
    onConnect: () => {
      r.connects += 1;
      if (r.connectedAt === null) r.connectedAt = performance.now();
    },
    onStream: (stream) => r.streams.push(stream),
    onIceStateChange: (state, quality) => {
      r.states.push(state);
      r.qualities.push(quality);
    },
    onClose: () => (r.closes += 1),
    onError: (e) => r.errors.push(String((e && e.message) || e)),
  };
}
H.handlersFor = handlersFor;
H.recorder = recorder;

/**
 * Caller (initiator) and callee wired to each other's signal().
 * opts: { caller: PeerOptions, callee: PeerOptions, calleeManager, scramble: ms }.
 * With `scramble`, everything the caller sends is held for that long after its
 * offer, then given to the callee candidates first, the offer last.
 */
H.pair = async (manager, opts = {}) => {
  const ev = { caller: recorder("caller"), callee: recorder("callee"), toCallee: [], t0: performance.now() };
  const peers = {};
  const deliver = (to, r) => {
    let chain = Promise.resolve();
    return (s) => {
      chain = chain.then(async () => {
        if (to === "callee") ev.toCallee.push(s.type);
        try {
          await peers[to].signal(s);
        } catch (e) {
          r.errors.push(`signal(${s.type}): ${(e && e.message) || e}`);
        }
      });
    };
  };
  const direct = deliver("callee", ev.callee);
  if (opts.scramble) {
    let held = [];
    let holding = true;
    ev.caller.send = (s) => {
      if (!holding) return direct(s);
      held.push(s);
      if (s.type === "offer") {
        setTimeout(() => {
          holding = false;
          const candidates = held.filter((x) => x.type === "candidate");
          const rest = held.filter((x) => x.type !== "candidate");
          held = [];
          for (const x of [...candidates, ...rest]) direct(x);
        }, opts.scramble);
      }
    };
  } else {
    ev.caller.send = direct;
  }
  ev.callee.send = deliver("caller", ev.caller);
  const make = async (who, m, options, initiator) => {
    const r = ev[who];
    const peer = await m.createPeer({ ...options, initiator, handlers: handlersFor(r) });
    peer.connection.addEventListener("icecandidateerror", (e) =>
      r.candidateErrors.push({ code: e.errorCode, url: e.url, at: performance.now() }));
    return peer;
  };
  // The callee first: it only speaks once it has the caller's offer.
  peers.callee = await make("callee", opts.calleeManager || manager, opts.callee || {}, false);
  peers.caller = await make("caller", manager, opts.caller || {}, true);
  return { caller: peers.caller, callee: peers.callee, ev };
};
/** Waits until both sides reported onConnect. */
H.connected = (pair, ms, what = "both peers connected") =>
  H.waitFor(() => pair.ev.caller.connects > 0 && pair.ev.callee.connects > 0, ms,
    () => `${typeof what === "function" ? what() : what}: caller states ${canonical(pair.ev.caller.states)} errors ${canonical(pair.ev.caller.errors)}, ` +
      `callee states ${canonical(pair.ev.callee.states)} errors ${canonical(pair.ev.callee.errors)}`);

/**
 * A manager on the fixture's TURN-REST credentials (endpoint `/turn/<name>`) with
 * short restart timers; `relayOnly`, peer options that allow only relayed
 * candidates; and `candidateTypes(p)`, both sides' local candidate types.
 */
H.turnManager = () => {
  const manager = H.manager({ endpoint: H.url(`/turn/${H.name("turn")}?ttl=3600`), token: "tok",
    disconnectedTimeoutMs: 500, restartTimeoutMs: 3000, restartAttempts: 5 });
  const relayOnly = { iceTransportPolicy: "relay" };
  const candidateTypes = async (p) => [(await p.caller.stats()).localCandidateType, (await p.callee.stats()).localCandidateType];
  return { manager, relayOnly, candidateTypes };
};

// ---- negotiation from either side (web_peers_negotiation.js) ----
/**
 * Caller (initiator) and callee like `H.pair`, but every signal travels through a
 * relay that holds it for `delayMs` (default 0: still a macrotask later), in order
 * per direction, as a signaling server would. So offers made in the same tick on
 * both sides cross in flight. `ev.wire` logs each message: { from, type, sentAt,
 * deliveredAt, ok, receiverState } where `receiverState` is the receiving
 * connection's signalingState as the message arrived ("have-local-offer" for an
 * offer: the offers collided). opts: { caller, callee, calleeManager, delayMs }, where
 * `delayMs` may be a function giving each message's latency.
 */
H.relayPair = async (manager, opts = {}) => {
  const delay = typeof opts.delayMs === "function" ? opts.delayMs : () => opts.delayMs ?? 0;
  const ev = { caller: recorder("caller"), callee: recorder("callee"), wire: [], t0: performance.now() };
  const peers = {};
  const relay = (from, to) => {
    let chain = Promise.resolve();
    return (s) => {
      const entry = { from, type: s.type, sentAt: performance.now(), deliveredAt: null, ok: null, receiverState: null };
      ev.wire.push(entry);
      const due = H.sleep(delay()); // the latency counts from the send
      chain = chain.then(async () => {
        await due;
        await H.waitFor(() => peers[to], 5000, `the ${to} peer to exist`);
        entry.receiverState = peers[to].connection.signalingState;
        try {
          await peers[to].signal(s);
          entry.ok = true;
        } catch (e) {
          entry.ok = false;
          ev[to].errors.push(`signal(${s.type}) from ${from}: ${(e && e.message) || e}`);
        }
        entry.deliveredAt = performance.now();
      });
    };
  };
  ev.caller.send = relay("caller", "callee");
  ev.callee.send = relay("callee", "caller");
  const make = async (who, m, options, initiator) => {
    const peer = await m.createPeer({ ...options, initiator, handlers: handlersFor(ev[who]) });
    peers[who] = peer;
    return peer;
  };
  await make("callee", opts.calleeManager || manager, opts.callee || {}, false);
  await make("caller", manager, opts.caller || {}, true);
  return { caller: peers.caller, callee: peers.callee, ev };
};
/** The first `a=ice-ufrag:` of a session description, or null. */
H.ufrag = (description) => {
  const match = description && /a=ice-ufrag:(\S+)/.exec(description.sdp);
  return match ? match[1] : null;
};
/** Both sides' negotiation state: for assertions and failure messages. */
H.negotiationState = (p) => {
  const side = (peer) => ({
    quality: peer.quality,
    ice: peer.iceConnectionState,
    signaling: peer.connection.signalingState,
    localUfrag: H.ufrag(peer.connection.localDescription),
    remoteUfrag: H.ufrag(peer.connection.remoteDescription),
  });
  return { caller: side(p.caller), callee: side(p.callee) };
};
/**
 * Both sides `good` and `stable`, each side's remote ICE credentials the other's
 * local ones, and no message on the wire still undelivered.
 */
H.converged = (p) => {
  const { caller, callee } = H.negotiationState(p);
  return caller.quality === "good" && callee.quality === "good" &&
    caller.signaling === "stable" && callee.signaling === "stable" &&
    caller.localUfrag !== null && caller.localUfrag === callee.remoteUfrag &&
    callee.localUfrag !== null && callee.localUfrag === caller.remoteUfrag &&
    p.ev.wire.every((w) => w.deliveredAt !== null);
};
/** Wire entries from index `mark` on, as "from:type" (candidates left out). */
H.descriptionsSince = (p, mark) =>
  p.ev.wire.slice(mark).filter((w) => w.type !== "candidate").map((w) => `${w.from}:${w.type}`);
/**
 * Waits until `H.converged(p)` and `extra()` hold and no offer or answer was sent
 * for `quietMs` (a second round of negotiation would show by then). Returns the
 * `performance.now()` from which it has held (before the quiet period).
 */
H.settles = async (p, { extra = () => true, quietMs = 1000, ms = 15000, what = "convergence" } = {}) => {
  let settledAt = null;
  await H.waitFor(() => {
    const lastDescription = p.ev.wire.filter((w) => w.type !== "candidate").at(-1);
    const quiet = !lastDescription || performance.now() - lastDescription.sentAt >= quietMs;
    if (!(H.converged(p) && extra())) {
      settledAt = null;
      return false;
    }
    if (settledAt === null) settledAt = performance.now();
    return quiet;
  }, ms, () => `${what}: ${H.json(H.negotiationState(p))}, descriptions sent ${H.json(H.descriptionsSince(p, 0))}, ` +
    `errors caller ${H.json(p.ev.caller.errors)} callee ${H.json(p.ev.callee.errors)}`);
  return settledAt;
};
/**
 * What a connection's getStats() says about the path and the media: packets of
 * inbound RTP, and each transport's selected pair with that pair's state and bytes.
 */
H.pathStats = async (pc) => {
  const report = await pc.getStats();
  const all = [...report.values()];
  const pairs = new Map(all.filter((r) => r.type === "candidate-pair").map((r) => [r.id, r]));
  const port = (id) => (report.get(id) || {}).port;
  const ports = (pair) => `${port(pair.localCandidateId)}>${port(pair.remoteCandidateId)}`;
  // What the ICE transport itself says it uses (Chrome), to compare with the stats' selected pair.
  const transport = pc.getSenders().concat(pc.getReceivers()).map((x) => x.transport).find(Boolean);
  const actual = transport && transport.iceTransport && transport.iceTransport.getSelectedCandidatePair
    ? transport.iceTransport.getSelectedCandidatePair() : null;
  return {
    inboundPackets: all.filter((r) => r.type === "inbound-rtp").reduce((n, r) => n + (r.packetsReceived || 0), 0),
    outboundPackets: all.filter((r) => r.type === "outbound-rtp").reduce((n, r) => n + (r.packetsSent || 0), 0),
    transports: all.filter((r) => r.type === "transport").map((t) => {
      const pair = pairs.get(t.selectedCandidatePairId);
      return { ice: t.iceState, dtls: t.dtlsState,
        selectedPair: pair ? { state: pair.state, bytesReceived: pair.bytesReceived, ports: ports(pair) } : null };
    }),
    iceTransportPair: actual ? `${actual.local.port}>${actual.remote.port}` : null,
    pairs: [...pairs.values()].filter((r) => r.state !== "waiting" && r.state !== "frozen")
      .map((r) => `${r.state}${r.nominated ? "/nominated" : ""}:${ports(r)}:${r.bytesReceived}`),
  };
};
/**
 * Waits until the peer's inbound RTP packets grow by `packets` (default 25: half
 * a second of audio, more than a straggler) past their count now: media arriving.
 * `other`: the far side's peer, whose stats join the failure message.
 */
H.mediaArrives = async (peer, ms, what, { packets = 25, other = null } = {}) => {
  const before = (await H.pathStats(peer.connection)).inboundPackets;
  let now = null;
  try {
    await H.waitFor(async () => (now = await H.pathStats(peer.connection)).inboundPackets >= before + packets, ms, what);
  } catch {
    const far = other ? `; far side ${canonical(await H.pathStats(other.connection))}` : "";
    throw new Error(`${what}: inbound RTP packets ${before} then ${now && now.inboundPackets} in ${ms} ms (want +${packets}); ` +
      `stats ${canonical(now)}${far}`);
  }
};
/**
 * Whether `peer.stats()` (the library's view of the selected pair) shows
 * bytesReceived growing within `ms`: { advanced, detail } with the raw path
 * stats in `detail` when it did not. Reported, not asserted: after crossing ICE
 * restarts Chrome sometimes names a pair as selected (in getStats and in
 * RTCIceTransport.getSelectedCandidatePair) while RTP goes on arriving over another.
 */
H.statsAdvancing = async (peer, ms) => {
  const before = (await peer.stats()).bytesReceived;
  const deadline = performance.now() + ms;
  let now = before;
  while (performance.now() < deadline) {
    now = (await peer.stats()).bytesReceived;
    if (now > before) return { advanced: true, detail: "" };
    await H.sleep(50);
  }
  return { advanced: false, detail: `bytesReceived stays at ${now}; raw ${canonical(await H.pathStats(peer.connection))}` };
};
