// The manager's owned callbacks: one exported function per test of
// tests/web_manager_callbacks.rs, run by tests/support/browser.rs with the
// helpers `H` (tests/support/helpers.js).

/** `problems`, every uncaught error and unhandled rejection from now on, and `stopWatching()`. */
function watchErrors() {
  const problems = [];
  const onError = (e) => problems.push(`error: ${e.message}`);
  const onRejection = (e) => problems.push(`rejection: ${(e.reason && e.reason.message) || e.reason}`);
  addEventListener("error", onError);
  addEventListener("unhandledrejection", onRejection);
  const stopWatching = () => {
    removeEventListener("error", onError);
    removeEventListener("unhandledrejection", onRejection);
  };
  return { problems, stopWatching };
}

export async function destroy_during_an_async_token_ends_the_calls_at_once_and_sends_nothing(H) {
  const { problems, stopWatching } = watchErrors();
  const name = H.name("token-destroy");
  const endpoint = await H.script(name, [{ body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" }] } } }]);
  let calls = 0;
  const token = () => { calls++; return new Promise((resolve) => setTimeout(() => resolve("tok"), 400)); };
  const manager = H.manager({ endpoint, token, createPeerWaitMs: 5000 });
  const servers = manager.getIceServers();
  const peer = manager.createPeer({ initiator: true });
  const t0 = performance.now();
  manager.destroy();
  const [serversError, peerError] = await Promise.all([
    H.rejection(servers, "getIceServers"), H.rejection(peer, "createPeer")]);
  const ms = performance.now() - t0;
  H.eq(H.errorShape(serversError).kind, "aborted", "getIceServers after destroy");
  H.eq(peerError.name, "InvalidStateError", "createPeer after destroy");
  H.ok(ms < 300, `both settled before the token did (${ms.toFixed(0)} ms)`);
  H.eq(calls, 2, "the token function was asked once per call");
  await H.sleep(600); // the token promises settle now
  H.eq(await H.requests(name), 0, "requests after destroy");
  stopWatching();
  H.eq(problems, [], "uncaught errors");
  await H.figure(`destroy during an async token: calls settled ${ms.toFixed(1)} ms later`);
}

export async function a_manager_freed_mid_request_finishes_it_cleanly(H) {
  const { problems, stopWatching } = watchErrors();
  const name = H.name("freed");
  const endpoint = await H.script(name, [
    { status: 503, delayMs: 150 },
    { body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" }] } }, delayMs: 150 }]);
  const manager = H.manager({ endpoint, token: async () => "tok", retries: 1, retryDelayMs: 50 });
  const pending = manager.getIceServers();
  await H.sleep(0);
  manager.free();
  const servers = await pending;
  H.eq(servers, [{ urls: ["stun:a.example:3478"] }], "servers of the freed manager's request");
  H.eq(await H.requests(name), 2, "the attempt and its retry");
  await H.gc();
  await H.sleep(50);
  stopWatching();
  H.eq(problems, [], "uncaught errors (a closure called after it was dropped throws)");
}

export async function network_events_reach_the_manager_until_destroy_or_free(H) {
  const { problems, stopWatching } = watchErrors();
  const lines = H.captureConsole();
  const changes = () => lines.filter((l) => l.includes("Network changed")).length;
  const fire = () => {
    dispatchEvent(new Event("offline"));
    dispatchEvent(new Event("online"));
    if (navigator.connection) navigator.connection.dispatchEvent(new Event("change"));
  };
  const perFire = navigator.connection ? 3 : 2;
  const destroyed = H.manager({ token: "tok", debug: true });
  fire();
  H.eq(changes(), perFire, "events heard by a live manager");
  destroyed.destroy();
  fire();
  H.eq(changes(), perFire, "events heard after destroy()");
  const freed = H.manager({ token: "tok", debug: true });
  fire();
  H.eq(changes(), 2 * perFire, "events heard by a second live manager");
  freed.free();
  fire();
  H.eq(changes(), 2 * perFire, "events heard after free()");
  stopWatching();
  H.eq(problems, [], "uncaught errors");
}
