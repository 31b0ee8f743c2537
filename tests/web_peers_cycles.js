// Create/close cycles that must leak nothing: the scenarios of
// tests/web_peers_cycles.rs and tests/web_peers_cycles_gc.rs, each in a page of
// its own (connections one leaves to the GC would still count against Chrome's
// cap in the next), run by tests/support/browser.rs with the helpers `H`
// (tests/support/helpers.js).

// One WebAssembly page: growth below this is allocator noise, not a leak
// (a leak of 100 bytes per cycle would be ~1.8 pages over 600 cycles).
const MEMORY_SLACK = 65536;
// Externrefs held by the runtime and the helpers vary a little between calls.
const EXTERNREF_SLACK = 8;

/**
 * Runs `cycles` after `warmup` cycles and returns
 * `{ memory0, memory1, externrefs0, externrefs1, ms, capWaits }`. Explicit servers: no fetch.
 * Each cycle makes a caller and a callee, lets them exchange the offer, and
 * closes both. `free` also frees the JS wrappers (otherwise the
 * FinalizationRegistry does, whenever the GC runs).
 */
async function createCloseCycles(H, { warmup, cycles, free }) {
  const manager = H.manager({ endpoint: H.url("/ice/unused"), token: "tok" });
  const iceServers = [{ urls: "stun:127.0.0.1:47478" }];
  let fired = 0;
  const handlers = { onConnect: () => fired++, onStream: () => fired++ };
  // Chrome releases a collected connection some time after the collection,
  // later still on a machine busy with other work. A createPeer() that meets
  // the cap collects and waits, up to 10 times 200 ms, and is counted
  // (`capWaits`): connections the library still referenced would never be
  // released, and the test fails.
  let capWaits = 0, done = 0;
  const create = async (options) => {
    for (let wait = 0; ; wait++) {
      try {
        return await manager.createPeer(options);
      } catch (e) {
        if (!/so many PeerConnections/.test(String(e))) throw e;
        if (wait === 10) throw new Error(`still at the connection cap after ${wait} waits (${capWaits} in all), cycle ${done}`);
        capWaits++;
        await H.gc();
        await H.sleep(200);
      }
    }
  };
  const cycle = async () => {
    const callee = await create({ initiator: false, iceServers, handlers });
    let offered;
    const offer = new Promise((resolve) => (offered = resolve));
    const caller = await create({ initiator: true, iceServers,
      handlers: { ...handlers, onSignal: (s) => s.type === "offer" && offered(s) } });
    await callee.signal(await offer);
    caller.close();
    callee.close();
    if (free) { caller.free(); callee.free(); }
  };
  // Chrome counts closed connections against its cap of 500 until they are
  // collected, so collect every 50 cycles (100 peers); a connection the library
  // still references would survive that and the cap would be hit within
  // the 1200 peers. Not every 100: Chrome releases a collected connection
  // a little later, and on a busy machine 200 per round came close enough
  // to the cap to fail now and then.
  const run = async (n) => {
    for (let i = 0; i < n; i++) {
      await cycle();
      done++;
      if (i % 50 === 49) await H.gc();
    }
    await H.gc();
  };
  await H.gc();
  await run(warmup);
  H.eq(manager.peerCount, 0, "peerCount after the warm-up");
  const memory0 = H.memoryBytes(), externrefs0 = H.externrefs();
  const t0 = performance.now();
  await run(cycles);
  const ms = performance.now() - t0;
  H.eq(manager.peerCount, 0, "peerCount after the cycles");
  H.eq(fired, 0, "onConnect/onStream on peers closed before connecting");
  return { memory0, memory1: H.memoryBytes(), externrefs0, externrefs1: H.externrefs(), ms, capWaits };
}

export async function create_close_cycles_leak_nothing(H) {
  const f = await createCloseCycles(H, { warmup: 50, cycles: 600, free: true }); // 600 cycles x (caller + callee)
  await H.figure(`600 caller/callee cycles (1200 peers, wrappers freed) after 50 warm-up cycles: wasm memory ${f.memory0} -> ${f.memory1} bytes, ` +
    `externrefs ${f.externrefs0} -> ${f.externrefs1}, ${f.ms.toFixed(0)} ms (${(f.ms / 600).toFixed(2)} ms/cycle), ${f.capWaits} waits at the connection cap`);
  H.ok(f.memory1 - f.memory0 <= MEMORY_SLACK, `wasm memory grew: ${H.json(f)}`);
  H.ok(f.externrefs1 - f.externrefs0 <= EXTERNREF_SLACK, `externref heap grew: ${H.json(f)}`);
}

/**
 * The same cycles with the `Peer` wrappers left to the GC, as an app would leave
 * them: the connections are closed and released, so the cap is never reached.
 */
export async function cycles_without_free_stay_under_the_connection_cap(H) {
  const f = await createCloseCycles(H, { warmup: 0, cycles: 600, free: false });
  await H.figure(`1200 peers (600 cycles, wrappers left to the GC): wasm memory ${f.memory0} -> ${f.memory1} bytes, ` +
    `externrefs ${f.externrefs0} -> ${f.externrefs1}, ${f.ms.toFixed(0)} ms, ${f.capWaits} waits at the connection cap`);
}
