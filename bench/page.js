// The benchmark's page: the same measurements for each stack, in one page.
// Each "pair" is a caller and a callee in this page, relay only (through the
// same coturn), signals handed over directly. "Connected" is ICE connected on
// both sides for every stack (simple-peer's iceStateChange, not its later
// data-channel "connect").
const now = () => performance.now();
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
const p90 = (xs) => sorted(xs)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))];
const heap = () => {
  window.gc();
  return performance.memory.usedJSHeapSize;
};
const timeout = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: over ${ms} ms`)), ms))]);

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
}

async function stacks(stream) {
  const started = {};
  let t = now();
  const icePeer = await import("/pkg/ice_peer.js");
  const wasm = await icePeer.default();
  started.icePeer = now() - t;
  t = now();
  await loadScript("/simplepeer.min.js");
  started.simplePeer = now() - t;
  t = now();
  const baseline = await import("/baseline.js");
  started.baseline = now() - t;

  const manager = new icePeer.PeerManager({ token: "bench" });
  const SimplePeer = window.SimplePeer;
  const iceConnected = (peer) => new Promise((resolve) => {
    peer.on("iceStateChange", (state) => ["connected", "completed"].includes(state) && resolve());
  });

  return {
    started,
    wasm,
    icePeer: {
      servers: () => manager.getIceServers(),
      pair: async (media, connect = true) => {
        let connects = 0;
        let caller = null;
        let resolveDone;
        const done = new Promise((resolve) => (resolveDone = resolve));
        const onConnect = () => ++connects === 2 && resolveDone();
        const callee = await manager.createPeer({ initiator: false, iceTransportPolicy: "relay",
          handlers: { onSignal: (s) => caller.signal(s), onConnect } });
        caller = await manager.createPeer({ initiator: true, stream: media, iceTransportPolicy: "relay",
          handlers: { onSignal: (s) => callee.signal(s), onConnect } });
        if (connect) await done;
        return () => { caller.close(); callee.close(); };
      },
    },
    simplePeer: {
      servers: () => baseline.fetchServers(),
      pair: async (media, connect = true, iceServers = null) => {
        // No cache: each call fetches its servers, as simple-peer with a plain fetch does.
        const config = { iceServers: iceServers ?? (await baseline.fetchServers()), iceTransportPolicy: "relay" };
        const caller = new SimplePeer({ initiator: true, stream: media ?? undefined, config, trickle: true });
        const callee = new SimplePeer({ config, trickle: true });
        caller.on("signal", (s) => callee.signal(s));
        callee.on("signal", (s) => caller.signal(s));
        for (const p of [caller, callee]) p.on("error", () => {});
        if (connect) await Promise.all([iceConnected(caller), iceConnected(callee)]);
        return () => { caller.destroy(); callee.destroy(); };
      },
    },
    baseline: {
      servers: () => baseline.fetchServers(),
      pair: async (media, connect = true, iceServers = null) => {
        const pair = baseline.baselinePair(iceServers ?? (await baseline.fetchServers()), media);
        if (connect) await pair.done;
        return pair.close;
      },
    },
  };
}

window.runBench = async (calls) => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
  const s = await stacks(stream);
  const names = ["icePeer", "simplePeer", "baseline"];
  const out = { calls, init: s.started, connectMedian: {}, connectP90: {}, cycle: {}, memory: {}, servers: {} };

  for (const name of names) {
    const times = [];
    for (let i = 0; i < calls; i++) {
      const t = now();
      const close = await timeout(s[name].pair(stream), 20000, `${name} call ${i}`);
      times.push(now() - t);
      close();
      await new Promise((r) => setTimeout(r, 50));
    }
    out.connectMedian[name] = median(times);
    out.connectP90[name] = p90(times);
    heap();
  }

  // Closed connections count toward Chrome's 500 until collected: collect
  // between phases and every 10 cycles (outside the timed part).
  const servers = await s.baseline.servers();
  for (const name of names) {
    const cycles = 100;
    let spent = 0;
    for (let i = 0; i < cycles; i++) {
      if (i % 10 === 0) heap();
      const t = now();
      (await s[name].pair(null, false, servers))();
      spent += now() - t;
    }
    out.cycle[name] = spent / cycles;
  }

  // JS heap after gc(), plus ice-peer's wasm memory (where its state lives).
  // Settled first: a warm-up round, then two collections with a pause, so
  // garbage from earlier phases is not counted against this one.
  const wasmBytes = () => s.wasm.memory.buffer.byteLength;
  const settled = async () => {
    heap();
    await new Promise((r) => setTimeout(r, 300));
    return heap() + wasmBytes();
  };
  for (const name of names) {
    const open = 20;
    (await s[name].pair(stream))();
    const before = await settled();
    const closers = [];
    for (let i = 0; i < open; i++) closers.push(await timeout(s[name].pair(stream), 20000, `${name} open call ${i}`));
    out.memory[name] = ((await settled()) - before) / open;
    closers.forEach((close) => close());
    heap();
  }

  await s.icePeer.servers(); // cached from here on
  for (const name of names) {
    const n = name === "icePeer" ? 500 : 50;
    const t = now();
    for (let i = 0; i < n; i++) await s[name].servers();
    out.servers[name] = (now() - t) / n;
  }
  out.wasmMemory = s.wasm.memory.buffer.byteLength;
  return out;
};
