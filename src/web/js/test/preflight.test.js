// @ts-check
// preflight.js's decisions, against a fake RTCPeerConnection: which policy
// each check asks for, which candidate ends it, which icecandidateerror code
// it keeps, that the deadline ends it, and that every connection is closed
// with its handlers detached whichever way it ends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ManagerEvent } from "../kinds.js";
import { plannedCheck, preflight, runCheck } from "../preflight.js";

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

const turn = plannedCheck({ urls: ["turn:h:3478?transport=tcp", "turn:h:3478"], username: "u", credential: "secret" },
  0, "turn", "tcp");
const stun = plannedCheck({ urls: ["stun:h:3478"] }, 0, "stun", "udp");

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

test("preflight: once the servers are there, the planned checks side by side, then the report with the conclusion drawn from every result in order", async () => {
  made = [];
  /** @type {unknown[]} */
  const asked = [];
  /** @type {unknown[]} */
  let seen = [];
  const servers = [{ urls: ["stun:h:3478"] }];
  /** @type {(event: number, value?: unknown) => unknown} */
  const notify = (event, value) => {
    asked.push(event);
    if (event === ManagerEvent.PreflightPlan) {
      assert.equal(value, servers, "the plan is asked for the servers given");
      return [stun, turn];
    }
    seen = /** @type {{ url: string, ok: boolean }[]} */ (value).map((r) => [r.url, r.ok]);
    return { verdict: "relay", relayTransports: ["tcp"] };
  };
  const report = preflight(Promise.resolve(servers), 5000, notify);
  assert.equal(made.length, 0, "nothing starts before the servers arrive");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(made.length, 2, "both connections exist before either check ends");
  made[1].candidate("relay");
  made[0].candidate(null);
  made[0].error(701, "late"); // after its end: no effect
  const out = await report;
  assert.deepEqual(asked, [ManagerEvent.PreflightPlan, ManagerEvent.PreflightOver]);
  assert.deepEqual(seen, [["stun:h:3478", true], ["turn:h:3478?transport=tcp", true]]);
  assert.deepEqual([out.verdict, out.relayTransports, out.checks.length, typeof out.durationMs], ["relay", ["tcp"], 2, "number"]);
  assert.ok(made.every((pc) => pc.closed));
});

test("preflight rejects when the servers do, and starts no check", async () => {
  made = [];
  const failed = new Error("no servers");
  await assert.rejects(preflight(Promise.reject(failed), 5000, () => assert.fail("nothing to ask")), failed);
  assert.equal(made.length, 0);
});
