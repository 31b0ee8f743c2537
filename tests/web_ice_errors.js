// getIceServers() failures, the token's place, debug logging and option
// validation: one exported function per test of tests/web_ice_errors.rs, run by
// tests/support/browser.rs with the helpers `H` (tests/support/helpers.js).

/**
 * Scripts `steps`, calls getIceServers() once with `options`, and checks the
 * rejection's shape and the number of requests the fixture saw.
 */
async function expectError(H, steps, options, shape, requests) {
  const name = H.name("error");
  const endpoint = await H.script(name, steps);
  const manager = H.manager({ endpoint, token: "tok", retryDelayMs: 1, ...options });
  const error = await H.rejection(manager.getIceServers(), "getIceServers");
  H.eq(H.errorShape(error), shape, `error for ${H.json(steps)}`);
  H.eq(await H.requests(name), requests, `requests for ${H.json(steps)}`);
}

const OK = { body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" }] } } };

export async function unauthorized_401_and_403_are_not_retried(H) {
  for (const status of [401, 403]) {
    await expectError(H, [{ status, body: { success: false } }], { retries: 3 },
      { isError: true, name: "IceServersError", kind: "unauthorized", status, attempts: 1 }, 1);
  }
}

export async function not_found_is_http_and_not_retried(H) {
  await expectError(H, [{ status: 404, body: { success: false } }], { retries: 3 },
    { isError: true, name: "IceServersError", kind: "http", status: 404, attempts: 1 }, 1);
}

export async function server_errors_exhaust_retries_plus_one_attempts(H) {
  await expectError(H, [{ status: 500, body: { success: false } }], { retries: 2 },
    { isError: true, name: "IceServersError", kind: "http", status: 500, attempts: 3 }, 3);
}

export async function statuses_408_429_and_5xx_are_retried_until_success(H) {
  for (const failures of [[{ status: 429 }], [{ status: 408 }], [{ status: 500 }, { status: 500 }]]) {
    const name = H.name("retried");
    const endpoint = await H.script(name, [...failures, OK]);
    const manager = H.manager({ endpoint, token: "tok", retries: 3, retryDelayMs: 1 });
    H.eq(await manager.getIceServers(), [{ urls: ["stun:a.example:3478"] }], `servers after ${H.json(failures)}`);
    H.eq(await H.requests(name), failures.length + 1, `requests after ${H.json(failures)}`);
  }
}

export async function hung_server_times_out(H) {
  await expectError(H, [{ hang: true }], { timeoutMs: 200, retries: 1 },
    { isError: true, name: "IceServersError", kind: "timeout", status: "absent", attempts: 2 }, 2);
}

export async function refused_connection_is_network(H) {
  // Nothing listens on this loopback port: the connection is refused.
  const manager = H.manager({ endpoint: "http://127.0.0.1:47999/ice", token: "tok", retries: 1, retryDelayMs: 1 });
  const error = await H.rejection(manager.getIceServers(), "refused");
  H.eq(H.errorShape(error), { isError: true, name: "IceServersError", kind: "network", status: "absent", attempts: 2 }, "error");
}

export async function stubbed_fetch_rejecting_is_network_and_slow_stub_is_timeout(H) {
  let calls = 0;
  H.stubFetch(() => { calls += 1; return Promise.reject(new TypeError("Failed to fetch")); });
  const manager = H.manager({ endpoint: "https://ice.invalid/x", token: "tok", retries: 2, retryDelayMs: 1 });
  const error = await H.rejection(manager.getIceServers(), "stubbed network failure");
  H.eq(H.errorShape(error), { isError: true, name: "IceServersError", kind: "network", status: "absent", attempts: 3 }, "error");
  H.eq(calls, 3, "fetch calls");
  // A fetch that honours the abort signal but never answers: timeout.
  H.stubFetch((request, init) => new Promise((_, reject) => {
    const signal = (init && init.signal) || (request && request.signal);
    signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
  }));
  const slow = H.manager({ endpoint: "https://ice.invalid/x", token: "tok", retries: 0, timeoutMs: 50 });
  const timeout = await H.rejection(slow.getIceServers(), "stubbed hang");
  H.eq(H.errorShape(timeout), { isError: true, name: "IceServersError", kind: "timeout", status: "absent", attempts: 1 }, "timeout");
}

export async function unusable_bodies_are_invalid_response(H) {
  for (const step of [
    { json: false, body: "<html>not json</html>" },
    { body: { success: false, data: { iceServers: [{ urls: "stun:a.example:3478" }] } } },
    { body: { success: true, data: { iceServers: [{ urls: "http://a.example" }, { urls: "turn:t.example" }] } } },
    { body: { success: true, data: {} } },
  ]) {
    const name = H.name("invalid");
    const label = H.json(step);
    const endpoint = await H.script(name, [step]);
    const manager = H.manager({ endpoint, token: "tok", retries: 2, retryDelayMs: 1 });
    const error = await H.rejection(manager.getIceServers(), label);
    H.eq([error.name, error.kind], ["IceServersError", "invalid-response"], `kind for ${label}`);
    H.eq(error.attempts, await H.requests(name), `attempts = requests for ${label}`);
  }
}

/** Contract: `status` is "HTTP status of the last attempt, when there was a response". */
export async function invalid_response_reports_the_http_status(H) {
  await expectError(H, [{ json: false, body: "<html>not json</html>" }], { retries: 0 },
    { isError: true, name: "IceServersError", kind: "invalid-response", status: 200, attempts: 1 }, 1);
}

export async function token_only_in_the_authorization_header(H) {
  const token = "secret-jwt-7f3a9c";
  const name = H.name("token-place");
  const endpoint = await H.script(name, [{ status: 500 }]);
  const manager = H.manager({ endpoint, token: () => token, retries: 1, retryDelayMs: 1 });
  const error = await H.rejection(manager.getIceServers(), "500");
  const log = await H.log(name);
  H.eq(log.length, 2, "requests");
  for (const request of log) {
    H.eq(request.headers.authorization, `Bearer ${token}`, "Authorization");
    H.ok(!request.url.includes(token), `token not in the URL ${request.url}`);
    const others = Object.entries(request.headers).filter(([k]) => k !== "authorization");
    H.ok(!JSON.stringify(others).includes(token), "token in no other header");
  }
  H.ok(!String(error.message).includes(token) && !String(error.stack).includes(token), "token not in the error");
  H.ok(!JSON.stringify({ ...error }).includes(token), "token not in the error's properties");
  await H.rescript(name, [{ body: { success: true, data: { ttl: 60, iceServers: [{ urls: "stun:a.example:3478" }] } } }]);
  await manager.getIceServers();
  H.ok(!JSON.stringify(manager.iceServersInfo).includes(token), "token not in iceServersInfo");
}

export async function debug_logs_servers_without_token_or_credentials(H) {
  const token = "secret-jwt-debug-42";
  const name = H.name("debug");
  const endpoint = await H.script(name, [
    { status: 503 },
    { body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" },
      { urls: "turn:t.example:3478", username: "user-secret-91", credential: "cred-secret-17" }] } } }]);
  const lines = H.captureConsole();
  const manager = H.manager({ endpoint, token, debug: true, retries: 1, retryDelayMs: 1, createPeerWaitMs: 2000 });
  await manager.getIceServers();
  const peer = await manager.createPeer({ initiator: true });
  peer.close();
  H.cleanup();
  const all = lines.join("\n");
  H.ok(lines.length > 0, "debug: true logs something");
  H.ok(all.includes("turn:t.example:3478"), `the log names the servers: ${all}`);
  for (const secret of [token, "user-secret-91", "cred-secret-17"]) {
    H.ok(!all.includes(secret), `the log does not contain ${secret}: ${all}`);
  }
}

export async function no_logging_without_debug(H) {
  const name = H.name("quiet");
  const endpoint = await H.script(name, [{ status: 503 },
    { body: { success: true, data: { iceServers: [{ urls: "stun:a.example:3478" }] } } }]);
  const lines = H.captureConsole();
  const manager = H.manager({ endpoint, token: "tok", retries: 1, retryDelayMs: 1 });
  await manager.getIceServers();
  const peer = await manager.createPeer({ initiator: true });
  await H.sleep(100);
  peer.close();
  H.cleanup();
  H.eq(lines, [], "console output with debug off");
}

export async function bad_options_throw_type_errors(H) {
  const cases = {
    "no options": undefined,
    "missing token": { endpoint: "/x" },
    "token: 5": { token: 5 },
    "retries: -1": { token: "t", retries: -1 },
    "retries: 1.5": { token: "t", retries: 1.5 },
    "timeoutMs: 0": { token: "t", timeoutMs: 0 },
    "cacheTtlMs: NaN": { token: "t", cacheTtlMs: NaN },
    "endpoint: 5": { token: "t", endpoint: 5 },
    "endpoint: \"\"": { token: "t", endpoint: "" },
    "fallbackIceServers: {}": { token: "t", fallbackIceServers: {} },
  };
  for (const [label, options] of Object.entries(cases)) {
    const error = H.thrown(() => H.manager(options), label);
    H.ok(error instanceof TypeError, `${label}: a TypeError, got ${error && error.name}: ${error && error.message}`);
  }
  // And a valid one does not throw.
  H.manager({ token: "t", retries: 0, timeoutMs: 1, cacheTtlMs: 0 });
}
