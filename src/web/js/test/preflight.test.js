// @ts-check
// preflight.js: the policy (which check each URL gets, what the results
// mean) as plain functions; then, against a fake RTCPeerConnection, which
// policy each check asks for, which candidate ends it, which
// icecandidateerror code it keeps, that the deadline ends it, and that every
// connection is closed with its handlers detached whichever way it ends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkOf, conclude, planChecks, preflight, runCheck } from "../preflight.js";

test("each URL gets the check its scheme and transport call for", () => {
  for (const [url, check] of [
    ["stun:h:3478", ["stun", "udp"]],
    ["stuns:h:5349", ["stun", "tls"]],
    ["turn:h:3478", ["turn", "udp"]],
    ["turn:h:3478?transport=udp", ["turn", "udp"]],
    ["turn:h:3478?transport=tcp", ["turn", "tcp"]],
    ["turn:h:3478?transport=TCP", ["turn", "tcp"]],
    ["turn:h?transport=tcpx", ["turn", "udp"]],
    ["turns:h:443?transport=tcp", ["turn", "tls"]],
    ["http:h", null],
    ["stun", null],
  ]) {
    const found = checkOf(/** @type {string} */ (url));
    assert.deepEqual(found && [found.kind, found.transport], check, String(url));
  }
});

test("one check per URL, with only its own entry's credentials", () => {
  const servers = [
    { urls: ["stun:a:3478"] },
    { urls: ["turn:a:3478?transport=udp", "turn:a:3478?transport=tcp"], username: "u", credential: "p" },
    { urls: ["turns:a:5349", "stun:a:3478", "https:a"], username: "v", credential: "q" },
  ];
  const checks = planChecks(servers);
  assert.deepEqual(
    checks.map((c) => [c.url, c.kind, c.transport, c.server]),
    [
      ["stun:a:3478", "stun", "udp", { urls: ["stun:a:3478"] }],
      ["turn:a:3478?transport=udp", "turn", "udp", { urls: ["turn:a:3478?transport=udp"], username: "u", credential: "p" }],
      ["turn:a:3478?transport=tcp", "turn", "tcp", { urls: ["turn:a:3478?transport=tcp"], username: "u", credential: "p" }],
      ["turns:a:5349", "turn", "tls", { urls: ["turns:a:5349"], username: "v", credential: "q" }],
    ],
    "the repeated stun:a:3478 is tested once, https:a not at all",
  );
  assert.deepEqual(servers[1].urls.length, 2, "the servers given are left as they were");
});

test("the number of checks is bounded", () => {
  const urls = Array.from({ length: 99 }, (_, at) => `stun:h:${at + 1}`);
  const checks = planChecks([{ urls }]);
  assert.equal(checks.length, 16);
  assert.equal(checks[0].url, "stun:h:1");
  assert.deepEqual(planChecks([]), []);
});

test("verdicts and relay transports", () => {
  /** @type {[[string, string, boolean][], string, string[]][]} */
  const cases = [
    [[], "blocked", []],
    [[["stun", "udp", false], ["turn", "udp", false]], "blocked", []],
    [[["stun", "udp", true]], "direct", []],
    [[["turn", "tls", true], ["stun", "udp", true], ["turn", "udp", true]], "direct", ["udp", "tls"]],
    // UDP dropped at the router: only TCP relays.
    [[["stun", "udp", false], ["turn", "udp", false], ["turn", "tcp", true]], "relay", ["tcp"]],
    [[["turn", "tls", true], ["turn", "tcp", true], ["turn", "tcp", true], ["turn", "udp", true]], "relay", ["udp", "tcp", "tls"]],
    // A STUN check over TLS that failed, beside a TURN one that passed.
    [[["stun", "tls", false], ["turn", "tls", true]], "relay", ["tls"]],
  ];
  for (const [results, verdict, relayTransports] of cases) {
    const given = results.map(([kind, transport, ok]) => ({
      kind: /** @type {"stun" | "turn"} */ (kind),
      transport: /** @type {"udp" | "tcp" | "tls"} */ (transport),
      ok,
    }));
    assert.deepEqual(conclude(given), { verdict, relayTransports }, JSON.stringify(results));
  }
});

/** @type {any} */
const global = globalThis;

/** Every fake connection made, in order. @type {FakeConnection[]} */
let made = [];

class FakeConnection {
  /** @param {RTCConfiguration} config */
  constructor(config) {
    this.config = config;
    /** @type {any} */ this.onicecandidate = null;
    /** @type {any} */ this.onicecandidateerror = null;
    this.closed = false;
    made.push(this);
  }
  createDataChannel() {}
  setLocalDescription() {
    return Promise.resolve();
  }
  close() {
    this.closed = true;
  }
  /** @param {string | null} type a candidate of this type, or null for the end of gathering */
  candidate(type) {
    this.onicecandidate?.({ candidate: type === null ? null : { type } });
  }
  /** @param {number} errorCode @param {string} errorText */
  error(errorCode, errorText) {
    this.onicecandidateerror?.({ errorCode, errorText });
  }
}
global.RTCPeerConnection = FakeConnection;

const [turn] = planChecks([{ urls: ["turn:h:3478?transport=tcp", "turn:h:3478"], username: "u", credential: "secret" }]);
const [stun] = planChecks([{ urls: ["stun:h:3478"] }]);

/** Asserts the one connection made is closed with no handler left. */
function closedClean() {
  assert.equal(made.length, 1);
  assert.equal(made[0].closed, true);
  assert.deepEqual([made[0].onicecandidate, made[0].onicecandidateerror], [null, null]);
}

test("a TURN check: its one URL with the entry's credentials, policy relay, passing on a relay candidate", async () => {
  made = [];
  const result = runCheck(turn, 5000);
  assert.deepEqual(made[0].config, {
    iceServers: [{ urls: ["turn:h:3478?transport=tcp"], username: "u", credential: "secret" }],
    iceTransportPolicy: "relay",
  });
  made[0].candidate("host");
  made[0].candidate("relay");
  const check = await result;
  assert.deepEqual({ ...check, ms: typeof check.ms }, {
    url: "turn:h:3478?transport=tcp", kind: "turn", transport: "tcp", ok: true, ms: "number", errorCode: null, errorText: null,
  });
  assert.ok(!JSON.stringify(check).includes("secret"));
  closedClean();
});

test("a TURN check that got a 401 fails with it when gathering ends; a server's code wins over 701", async () => {
  for (const codes of [[401], [701, 401], [401, 701]]) {
    made = [];
    const result = runCheck(turn, 5000);
    for (const code of codes) made[0].error(code, code === 401 ? "Unauthorized" : "");
    made[0].candidate(null);
    const check = await result;
    assert.deepEqual([check.ok, check.ms, check.errorCode, check.errorText], [false, null, 401, "Unauthorized"], String(codes));
    closedClean();
  }
});

test("a STUN check: policy all, passing on a srflx candidate, or on gathering ending without an error", async () => {
  made = [];
  let result = runCheck(stun, 5000);
  assert.equal(made[0].config.iceTransportPolicy, "all");
  made[0].candidate("srflx");
  assert.equal((await result).ok, true);
  closedClean();

  // No NAT: the server answered with the host's own address, which is no new candidate.
  made = [];
  result = runCheck(stun, 5000);
  made[0].candidate("host");
  made[0].candidate(null);
  assert.equal((await result).ok, true);

  made = [];
  result = runCheck(stun, 5000);
  made[0].error(701, "STUN binding request timed out.");
  made[0].candidate(null);
  const failed = await result;
  assert.deepEqual([failed.ok, failed.errorCode, failed.errorText], [false, 701, "STUN binding request timed out."]);
  closedClean();
});

test("the deadline ends a check that hears nothing", async () => {
  made = [];
  const started = Date.now();
  const check = await runCheck(turn, 50);
  assert.ok(Date.now() - started < 1000);
  assert.deepEqual([check.ok, check.errorCode, check.errorText], [false, null, "no relay candidate within 50 ms"]);
  closedClean();
});

test("a server list the browser refuses fails that check only", async () => {
  made = [];
  const Real = global.RTCPeerConnection;
  global.RTCPeerConnection = class {
    constructor() {
      throw new SyntaxError("bad URL");
    }
  };
  try {
    const check = await runCheck(stun, 5000);
    assert.deepEqual([check.ok, check.errorText], [false, "bad URL"]);
  } finally {
    global.RTCPeerConnection = Real;
  }
});

test("preflight: once the servers are there, the planned checks side by side, then the report with the conclusion from every result", async () => {
  made = [];
  const servers = [{ urls: ["stun:h:3478"] }, { urls: ["turn:h:3478?transport=tcp"], username: "u", credential: "secret" }];
  const report = preflight(Promise.resolve(servers), 5000);
  assert.equal(made.length, 0, "nothing starts before the servers arrive");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(made.length, 2, "both connections exist before either check ends");
  made[1].candidate("relay");
  made[0].error(701, "STUN binding request timed out.");
  made[0].candidate(null);
  made[0].error(701, "late"); // after its end: no effect
  const out = await report;
  assert.deepEqual(
    out.checks.map((c) => [c.url, c.ok, c.errorCode]),
    [["stun:h:3478", false, 701], ["turn:h:3478?transport=tcp", true, null]],
  );
  assert.deepEqual([out.verdict, out.relayTransports, typeof out.durationMs], ["relay", ["tcp"], "number"]);
  assert.ok(made.every((pc) => pc.closed));
  assert.ok(!JSON.stringify(out).includes("secret"));
});

test("preflight rejects when the servers do, and starts no check", async () => {
  made = [];
  const failed = new Error("no servers");
  await assert.rejects(preflight(Promise.reject(failed), 5000), failed);
  assert.equal(made.length, 0);
});
