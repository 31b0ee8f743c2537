// Which ICE servers a peer gets, and TURN through the fixture's coturn: one
// exported function per test of tests/web_peers_servers.rs, run by
// tests/support/browser.rs with the helpers `H` (tests/support/helpers.js).

/** The connection's configured servers, in the normalised shape. */
const servers = (peer) => peer.connection.getConfiguration().iceServers.map((s) => ({
  urls: [].concat(s.urls),
  ...(s.username ? { username: s.username } : {}),
  ...(s.credential ? { credential: s.credential } : {}),
}));

export async function fallback_while_the_endpoint_is_down_then_fetched_servers(H) {
  const name = H.name("down");
  const endpoint = await H.script(name, [{ status: 503 }]);
  const manager = H.manager({ endpoint, token: "tok", createPeerWaitMs: 100, retries: 10, retryDelayMs: 300,
    fallbackIceServers: [{ urls: "stun:127.0.0.1:3478?transport=udp" }] });
  const peer = await manager.createPeer({ initiator: true });
  H.eq(servers(peer), [{ urls: ["stun:127.0.0.1:3478"] }], "configuration uses the (normalised) fallback");
  H.eq(manager.iceServersInfo, { source: "fallback", fetchedAt: null, expiresAt: null }, "iceServersInfo");
  // The endpoint comes back; the manager's retries go on and reach the live peer.
  const fetched = [{ urls: ["stun:127.0.0.1:47478"] },
    { urls: ["turn:127.0.0.1:47478?transport=udp"], username: "late-user", credential: "late-pass" }];
  await H.rescript(name, [{ body: { success: true, data: { iceServers: fetched } } }]);
  await H.waitFor(() => H.json(servers(peer)) === H.json(fetched), 10000,
    () => `fetched servers on the live peer, have ${H.json(servers(peer))}`);
  H.eq(manager.iceServersInfo.source, "network", "iceServersInfo.source once fetched");
  H.ok((await H.requests(name)) >= 2, "the endpoint was retried");
  peer.close();
}

export async function explicit_servers_win_and_are_not_refreshed(H) {
  const name = H.name("explicit");
  const a = [{ urls: ["stun:127.0.0.1:47478"] }];
  const b = [{ urls: ["stun:127.0.0.1:47479"] }];
  const endpoint = await H.script(name, [{ body: { success: true, data: { iceServers: a } } }]);
  const manager = H.manager({ endpoint, token: "tok" });
  const explicit = await manager.createPeer({ initiator: true, iceServers: [{ urls: "stun:127.0.0.1:40000" }] });
  const managed = await manager.createPeer({ initiator: false });
  H.eq(servers(explicit), [{ urls: ["stun:127.0.0.1:40000"] }], "explicit peer's configuration");
  H.eq(servers(managed), a, "managed peer's configuration");
  // A refresh with other servers: applied to the managed peer only.
  await H.rescript(name, [{ body: { success: true, data: { iceServers: b } } }]);
  manager.invalidate();
  H.eq(await manager.getIceServers(), b, "refreshed servers");
  H.eq(servers(managed), b, "managed peer after the refresh");
  H.eq(servers(explicit), [{ urls: ["stun:127.0.0.1:40000"] }], "explicit peer after the refresh");
  await H.figure(`requests with one explicit + one managed peer and a refresh: ${await H.requests(name)}`);
}

export async function relay_forced_call_through_coturn(H) {
  const { manager, relayOnly, candidateTypes } = H.turnManager();
  const p = await H.pair(manager, { caller: relayOnly, callee: relayOnly });
  await H.connected(p, 20000);
  await H.waitFor(async () => (await candidateTypes(p)).every((t) => t !== null), 5000, "a selected pair on both sides");
  H.eq(await candidateTypes(p), ["relay", "relay"], "local candidate types");
  H.eq(p.caller.quality, "good", "quality");
  await H.figure(`relay connect through coturn: caller ${(p.ev.caller.connectedAt - p.ev.t0).toFixed(0)} ms after createPeer`);
}

/**
 * Long calls outlive their credentials: an ICE restart after the cache
 * expired fetches fresh servers first and applies them to both peers.
 */
export async function restart_after_expiry_refetches_first(H) {
  const turnName = H.name("expiry");
  const manager = H.manager({ endpoint: H.url(`/turn/${turnName}?ttl=3600`), token: "tok", cacheTtlMs: 300 });
  const relayOnly = { iceTransportPolicy: "relay" };
  const p = await H.pair(manager, { caller: relayOnly, callee: relayOnly });
  await H.connected(p, 20000);
  H.eq(await H.requests(turnName), 1, "one fetch for both peers");
  const before = p.caller.connection.getConfiguration().iceServers.find((s) => s.username).username;
  await H.sleep(1100); // the cache (300 ms) is stale now; TURN-REST usernames move with the second
  const offers = () => p.ev.caller.signals.filter((s) => s === "offer").length;
  const offersBefore = offers();
  p.caller.restartIce();
  await H.waitFor(() => offers() > offersBefore, 10000, () => `a restart offer (${offers()} offers)`);
  H.eq(await H.requests(turnName), 2, "the restart refetched the expired servers");
  const after = [p.caller, p.callee].map((x) => x.connection.getConfiguration().iceServers.find((s) => s.username).username);
  H.ok(after.every((u) => u !== before), `fresh credentials on both peers: ${H.json({ before, after })}`);
  await H.waitFor(() => p.caller.quality === "good" && p.callee.quality === "good", 15000,
    () => `good after the restart: ${p.caller.quality}/${p.callee.quality}`);
}

export async function expired_turn_credential_is_refetched_and_the_relay_call_connects(H) {
  const name = H.name("expired");
  // The first answer carries credentials that expired a minute ago (yet claims a 1-day ttl);
  // every later answer is fresh.
  const endpoint = await H.script(name, [{ turn: { ttl: -60 } }, { turn: { ttl: 3600 } }]);
  const manager = H.manager({ endpoint, token: "tok", disconnectedTimeoutMs: 500, restartTimeoutMs: 3000, restartAttempts: 5 });
  const relayOnly = { iceTransportPolicy: "relay" };
  const p = await H.pair(manager, { caller: relayOnly, callee: relayOnly });
  await H.connected(p, 30000, () => `connected after the 401; candidate errors ${H.json([...p.ev.caller.candidateErrors, ...p.ev.callee.candidateErrors])}`);
  const errors = [...p.ev.caller.candidateErrors, ...p.ev.callee.candidateErrors];
  H.ok(errors.some((e) => e.code === 401), `a 401 icecandidateerror: ${H.json(errors)}`);
  const requests = await H.requests(name);
  // One initial fetch and one refetch; a 401 from the old gathering that
  // reaches the callee after the new servers landed may add one more, no storm.
  H.ok(requests >= 2 && requests <= 3, `the manager refetched once (${requests} requests)`);
  const types = [(await p.caller.stats()).localCandidateType, (await p.callee.stats()).localCandidateType];
  H.eq(types, ["relay", "relay"], "local candidate types");
  const first401 = Math.min(...errors.filter((e) => e.code === 401).map((e) => e.at));
  await H.figure(`expired TURN credential: first 401 at ${(first401 - p.ev.t0).toFixed(0)} ms, connected at ` +
    `${(p.ev.caller.connectedAt - p.ev.t0).toFixed(0)} ms after createPeer; ${requests} requests`);
}

/**
 * setTimeout treats any delay above 2^31 - 1 ms as 0. Before the clamp, the
 * restart's 3e9 ms timeout fired at once, the only attempt counted as
 * failed, and the caller closed right after its first 401.
 */
export async function a_restart_timeout_beyond_set_timeouts_range_does_not_fire_at_once(H) {
  const name = H.name("huge-timeout");
  const endpoint = await H.script(name, [{ turn: { ttl: -60 } }]); // always expired: every refetch 401s too
  const manager = H.manager({ endpoint, token: "tok", restartAttempts: 1, restartTimeoutMs: 3e9 });
  const relayOnly = { iceTransportPolicy: "relay" };
  const p = await H.pair(manager, { caller: relayOnly, callee: relayOnly });
  await H.waitFor(() => p.ev.caller.candidateErrors.some((e) => e.code === 401), 15000, "the caller's first 401");
  await H.sleep(2000);
  H.eq(p.ev.caller.closes, 0, "caller closes while its restart has 3e9 ms to succeed");
  H.eq(p.caller.iceConnectionState !== "closed", true, "caller still open");
  H.eq(manager.peerCount, 2, "peerCount");
}
