// getIceServers() against the fixture server: one exported function per test
// of tests/web_ice_servers.rs, run by tests/support/browser.rs with the helpers
// `H` (tests/support/helpers.js).

export async function seed_response_is_normalised_to_urls_only(H) {
  const name = H.name("seed");
  const endpoint = await H.script(name, [{ body: { success: true, data: { ttl: 86400, iceServers: [
    { url: "stun:stun.example.org:3478", urls: "stun:stun.example.org:3478" },
    { url: "turn:turn.example.org:3478?transport=udp",
      urls: ["turn:turn.example.org:3478?transport=udp", "turn:turn.example.org:3478?transport=tcp"],
      username: "1700000000:alice", credential: "c2VjcmV0" },
  ] } } }]);
  const manager = H.manager({ endpoint, token: "seed-token" });
  const servers = await manager.getIceServers();
  H.eq(servers, [
    { urls: ["stun:stun.example.org:3478"] },
    { urls: ["turn:turn.example.org:3478?transport=udp", "turn:turn.example.org:3478?transport=tcp"],
      username: "1700000000:alice", credential: "c2VjcmV0" },
  ], "normalised servers");
  H.ok(servers.every((s) => !("url" in s)), "no entry keeps `url`");
  H.eq(await H.requests(name), 1, "requests");
}

export async function twilio_shape_with_string_ttl_and_stun_query(H) {
  const name = H.name("twilio");
  const endpoint = await H.script(name, [{ body: { success: true, data: { ttl: "86400", ice_servers: [
    { url: "stun:global.stun.twilio.com:3478?transport=udp", urls: "stun:global.stun.twilio.com:3478?transport=udp" },
    { url: "turn:global.turn.twilio.com:3478?transport=udp", urls: "turn:global.turn.twilio.com:3478?transport=udp",
      username: "tw-user", credential: "tw-pass" },
    { url: "turn:global.turn.twilio.com:443?transport=tcp", urls: "turn:global.turn.twilio.com:443?transport=tcp",
      username: "tw-user", credential: "tw-pass" },
  ] } } }]);
  // cacheTtlMs above the ttl, so the string ttl ("86400" s) is what sets expiresAt.
  const manager = H.manager({ endpoint, token: "tok", cacheTtlMs: 1e9 });
  H.eq(await manager.getIceServers(), [
    { urls: ["stun:global.stun.twilio.com:3478"] },
    { urls: ["turn:global.turn.twilio.com:3478?transport=udp"], username: "tw-user", credential: "tw-pass" },
    { urls: ["turn:global.turn.twilio.com:443?transport=tcp"], username: "tw-user", credential: "tw-pass" },
  ], "normalised Twilio servers");
  const info = manager.iceServersInfo;
  H.eq(info.expiresAt - info.fetchedAt, 86400 * 1000, "expiresAt - fetchedAt from ttl \"86400\"");
}

export async function concurrent_calls_share_one_request(H) {
  const name = H.name("concurrent");
  const endpoint = await H.script(name, [{ delayMs: 150, body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" }] } } }]);
  const manager = H.manager({ endpoint, token: "tok" });
  const results = await Promise.all(Array.from({ length: 10 }, () => manager.getIceServers()));
  H.eq(results.length, 10, "results");
  for (const r of results) H.eq(r, [{ urls: ["stun:a.example:3478"] }], "each result");
  H.eq(await H.requests(name), 1, "requests for 10 concurrent calls");
}

export async function cache_hit_sends_no_request_and_info_reports_it(H) {
  const name = H.name("cache");
  const endpoint = await H.script(name, [{ body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" }] } } }]);
  const manager = H.manager({ endpoint, token: "tok", cacheTtlMs: 60000 });
  H.eq(manager.iceServersInfo, null, "iceServersInfo before the first call");
  const before = Date.now();
  await manager.getIceServers();
  const after = Date.now();
  const info = manager.iceServersInfo;
  H.eq(info.source, "network", "source after the first call");
  H.ok(typeof info.fetchedAt === "number" && info.fetchedAt >= before && info.fetchedAt <= after,
    `fetchedAt ${info.fetchedAt} within [${before}, ${after}]`);
  H.eq(info.expiresAt - info.fetchedAt, 60000, "expiresAt - fetchedAt (cacheTtlMs, no ttl)");
  H.eq(await manager.getIceServers(), [{ urls: ["stun:a.example:3478"] }], "cached servers");
  H.eq(await H.requests(name), 1, "requests after a cache hit");
  H.eq(manager.iceServersInfo, { source: "cache", fetchedAt: info.fetchedAt, expiresAt: info.expiresAt }, "info after a cache hit");
}

export async function short_cache_ttl_expires_and_refetches(H) {
  const name = H.name("expiry");
  const endpoint = await H.script(name, [{ body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" }] } } }]);
  const manager = H.manager({ endpoint, token: "tok", cacheTtlMs: 50 });
  await manager.getIceServers();
  H.eq(await H.requests(name), 1, "requests after the first call");
  await H.sleep(80); // let the 50 ms cache lapse
  await manager.getIceServers();
  H.eq(await H.requests(name), 2, "requests after the cache expired");
  H.eq(manager.iceServersInfo.source, "network", "source after the refetch");
}

export async function response_ttl_shorter_than_cache_ttl_caps_the_cache(H) {
  const name = H.name("ttl-cap");
  const endpoint = await H.script(name, [{ body: { success: true, data: { ttl: 1, iceServers: [{ urls: "stun:a.example:3478" }] } } }]);
  const manager = H.manager({ endpoint, token: "tok", cacheTtlMs: 3600000 });
  await manager.getIceServers();
  const info = manager.iceServersInfo;
  H.eq(info.expiresAt - info.fetchedAt, 1000, "expiresAt - fetchedAt capped by ttl 1 s");
  await manager.getIceServers();
  H.eq(await H.requests(name), 1, "requests while inside the ttl");
  await H.sleep(1050); // past the 1 s ttl
  await manager.getIceServers();
  H.eq(await H.requests(name), 2, "requests after the ttl");
}

export async function token_change_refetches_with_the_new_token(H) {
  const name = H.name("token-change");
  const endpoint = await H.script(name, [{ body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" }] } } }]);
  let token = "token-one";
  const manager = H.manager({ endpoint, token: () => token });
  await manager.getIceServers();
  await manager.getIceServers();
  token = "token-two";
  await manager.getIceServers();
  const log = await H.log(name);
  H.eq(log.map((r) => r.headers.authorization), ["Bearer token-one", "Bearer token-two"], "Authorization per request");
}

export async function async_token_function_is_awaited(H) {
  const name = H.name("async-token");
  const endpoint = await H.script(name, [{ body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" }] } } }]);
  const manager = H.manager({ endpoint, token: async () => { await H.sleep(20); return "async-token"; } });
  H.eq(await manager.getIceServers(), [{ urls: ["stun:a.example:3478"] }], "servers");
  const log = await H.log(name);
  H.eq(log.map((r) => r.headers.authorization), ["Bearer async-token"], "Authorization");
}

export async function no_token_rejects_without_a_request(H) {
  const name = H.name("no-token");
  const endpoint = await H.script(name, [{ body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" }] } } }]);
  const sources = {
    "() => null": () => null,
    "() => \"\"": () => "",
    "() => undefined": () => undefined,
    "async () => null": async () => null,
    "\"\"": "",
  };
  for (const [label, token] of Object.entries(sources)) {
    const manager = H.manager({ endpoint, token });
    const error = await H.rejection(manager.getIceServers(), label);
    H.eq(H.errorShape(error), { isError: true, name: "IceServersError", kind: "no-token", status: "absent", attempts: 0 },
      `error for token ${label}`);
  }
  H.eq(await H.requests(name), 0, "requests sent without a token");
}

export async function invalidate_makes_the_next_call_fetch(H) {
  const name = H.name("invalidate");
  const endpoint = await H.script(name, [{ body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" }] } } }]);
  const manager = H.manager({ endpoint, token: "tok" });
  await manager.getIceServers();
  await manager.getIceServers();
  H.eq(await H.requests(name), 1, "requests before invalidate()");
  manager.invalidate();
  await manager.getIceServers();
  H.eq(await H.requests(name), 2, "requests after invalidate()");
  H.eq(manager.iceServersInfo.source, "network", "source after invalidate()");
}

export async function stale_if_error_serves_cached_servers_inside_ttl(H) {
  const name = H.name("stale");
  const ok = { body: { success: true, data: { ttl: 86400, iceServers: [
    { urls: "turn:t.example:3478", username: "u", credential: "c" }] } } };
  const endpoint = await H.script(name, [ok, { status: 500, body: { success: false } }]);
  const manager = H.manager({ endpoint, token: "tok", cacheTtlMs: 30, retries: 1, retryDelayMs: 1 });
  const first = await manager.getIceServers();
  const fetchedAt = manager.iceServersInfo.fetchedAt;
  await H.sleep(60); // past cacheTtlMs, still inside the 1-day ttl
  const second = await manager.getIceServers();
  H.eq(second, first, "servers after the refresh failed");
  H.eq(manager.iceServersInfo.source, "cache", "source after stale-if-error");
  H.eq(manager.iceServersInfo.fetchedAt, fetchedAt, "fetchedAt is the original fetch");
  H.eq(await H.requests(name), 3, "requests (1 ok + 2 failed attempts)");
}

/** The contract: any failed refresh returns cached credentials still inside their ttl. */
export async function stale_if_error_covers_a_rejected_refresh_too(H) {
  const name = H.name("stale-401");
  const ok = { body: { success: true, data: { ttl: 86400, iceServers: [
    { urls: "turn:t.example:3478", username: "u", credential: "c" }] } } };
  const endpoint = await H.script(name, [ok, { status: 401, body: { success: false } }]);
  const manager = H.manager({ endpoint, token: "tok", cacheTtlMs: 30 });
  const first = await manager.getIceServers();
  await H.sleep(60);
  H.eq(await manager.getIceServers(), first, "servers after a 401 refresh");
  H.eq(manager.iceServersInfo.source, "cache", "source");
  H.eq(await H.requests(name), 2, "the 401 was not retried");
}

/** A token refreshed during the backoff is the one the next attempt sends. */
export async function every_retry_asks_the_token_source_again(H) {
  const name = H.name("retry-token");
  const ok = { body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" }] } } };
  const endpoint = await H.script(name, [{ status: 500 }, { status: 500 }, ok]);
  let calls = 0;
  const manager = H.manager({ endpoint, token: () => `tok-${++calls}`, retries: 3, retryDelayMs: 1 });
  await manager.getIceServers();
  const sent = (await H.log(name)).map((r) => r.headers.authorization);
  H.eq(sent, ["Bearer tok-1", "Bearer tok-2", "Bearer tok-3"], "Authorization of each attempt");
}

export async function no_stale_servers_without_a_ttl(H) {
  const name = H.name("no-stale");
  const endpoint = await H.script(name, [
    { body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" }] } } },
    { status: 500, body: { success: false } }]);
  const manager = H.manager({ endpoint, token: "tok", cacheTtlMs: 30, retries: 0 });
  await manager.getIceServers();
  await H.sleep(60);
  const error = await H.rejection(manager.getIceServers(), "refresh without ttl");
  H.eq(H.errorShape(error), { isError: true, name: "IceServersError", kind: "http", status: 500, attempts: 1 }, "error");
}

/**
 * Before the fix the retry went out after destroy() (with the user's token)
 * and the pending calls resolved with its servers once the backoff ended.
 */
export async function destroy_during_a_retry_backoff_sends_nothing_more_and_settles_pending_calls(H) {
  const name = H.name("destroy-backoff");
  const ok = { body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" }] } } };
  const endpoint = await H.script(name, [{ status: 500 }, ok]);
  const manager = H.manager({ endpoint, token: "tok", retries: 3, retryDelayMs: 4000 });
  const first = manager.getIceServers();
  const second = manager.getIceServers();
  await H.waitFor(async () => (await H.requests(name)) === 1, 3000, "the first attempt");
  await H.sleep(100); // the 500 arrived; the retry waits out its 4 s backoff
  const destroyedAt = performance.now();
  manager.destroy();
  const errors = await Promise.all([H.rejection(first, "first call"), H.rejection(second, "second call")]);
  const settledMs = performance.now() - destroyedAt;
  for (const error of errors) {
    H.eq(H.errorShape(error), { isError: true, name: "IceServersError", kind: "aborted", status: "absent", attempts: 1 },
      "a call pending at destroy()");
  }
  H.ok(settledMs < 2000, `pending calls settle at destroy(), not when the backoff ends (${settledMs.toFixed(0)} ms)`);
  const later = await H.rejection(manager.getIceServers(), "a call after destroy()");
  H.eq(H.errorShape(later), { isError: true, name: "IceServersError", kind: "aborted", status: "absent", attempts: 0 },
    "a call after destroy()");
  await H.sleep(4500); // past the moment the retry would have been sent
  H.eq(await H.requests(name), 1, "requests after destroy()");
}
