// The demo's room client (www/room.js) against a scripted server: a fake
// WebSocket, a fake manager and peer, and mocked timers. Each test drives
// one decision of the client: numbering, acks, the outbox across a resume,
// when to reconnect, when to start over, and when to give up.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";

const sockets = [];

/** A WebSocket the test plays the server of. */
class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 3;
  constructor(url) {
    this.url = url;
    this.readyState = FakeSocket.CONNECTING;
    this.sent = [];
    this.listeners = {};
    sockets.push(this);
  }
  addEventListener(type, listener) {
    (this.listeners[type] ??= []).push(listener);
  }
  send(text) {
    assert.equal(this.readyState, FakeSocket.OPEN, "sent on an open socket only");
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = FakeSocket.CLOSED; // the client closed it: it no longer listens
  }
  emit(type, event = {}) {
    for (const listener of this.listeners[type] ?? []) listener(event);
  }
  // The server's side.
  accept() {
    this.readyState = FakeSocket.OPEN;
    this.emit("open");
  }
  deliver(message) {
    this.emit("message", { data: JSON.stringify(message) });
  }
  drop(code = 1006, error) {
    if (error) this.deliver({ type: "error", code: error, message: error });
    this.readyState = FakeSocket.CLOSED;
    this.emit("close", { code });
  }
  of(type) {
    return this.sent.filter((m) => m.type === type);
  }
}

const last = () => sockets.at(-1);
const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** A manager whose one peer records what it is given; `endedCount()` is how often the app heard the call end. */
function fakeManager(endedCount) {
  const manager = {
    peer: null,
    async createPeer(options) {
      manager.peer = {
        options,
        applied: [],
        restarts: 0,
        closed: null,
        signal: async (data) => manager.peer.applied.push(data),
        restartIce: () => manager.peer.restarts++,
        // The app learns why before the peer's own onClose (a failed path) could say otherwise.
        close: () => (manager.peer.closed ??= { endedBefore: endedCount() > 0 }),
      };
      return manager.peer;
    },
  };
  return manager;
}

const { joinRoom, RoomError } = await (async () => {
  globalThis.location = { protocol: "http:", host: "example.test" };
  globalThis.WebSocket = FakeSocket;
  globalThis.window = new EventTarget();
  Object.defineProperty(globalThis, "navigator", { value: { connection: new EventTarget(), onLine: true }, configurable: true });
  // Timers and the clock move only when the test says so.
  Object.defineProperty(globalThis, "performance", { value: { now: () => Date.now() }, configurable: true });
  return import("../../www/room.js");
})();

describe("room client", () => {
  let manager, events, handler, joining, session;

  /** Joins as the party that takes its seat second (the initiator) and returns the peer. */
  async function joined(extra = {}) {
    last().accept();
    last().deliver({ type: "joined", room: "r", peers: 2, initiator: true, resume: "key-1", resumed: false, acked: 0, peer: "bob", ...extra });
    await flush();
    return manager.peer;
  }

  beforeEach(() => {
    mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 1_000_000 });
    sockets.length = 0;
    events = { notes: [], ended: [] };
    manager = fakeManager(() => events.ended.length);
    handler = {
      note: (text) => events.notes.push(text),
      ended: (err) => events.ended.push(err),
      state() {}, stream() {}, close() {}, error() {},
    };
    joining = joinRoom(manager, { room: "r", token: "jwt", stream: null, events: handler });
    session = null;
    joining.then((s) => (session = s), () => {});
  });
  afterEach(async () => {
    try {
      await flush();
      session?.leave(); // each test's client stops listening to the window
    } finally {
      mock.timers.reset();
    }
  });

  test("the first message authenticates; the token is never in the URL", async () => {
    await joined();
    assert.equal(last().url, "ws://example.test/api/calls/signal?room=r");
    assert.deepEqual(last().sent[0], { type: "auth", token: "jwt" });
    const { peer } = await joining;
    assert.equal(peer.options.initiator, true);
  });

  test("signals are numbered and kept until acked; after a resume only those past `acked` go again", async () => {
    const peer = await joined();
    for (const n of [1, 2, 3]) peer.options.handlers.onSignal({ type: "candidate", n });
    assert.deepEqual(last().of("signal").map((m) => m.seq), [1, 2, 3]);
    last().deliver({ type: "ack", seq: 1 });
    last().drop(1006);
    mock.timers.tick(0);
    assert.equal(sockets.length, 2, "reconnected at once");
    last().accept();
    assert.deepEqual(last().sent[0], { type: "auth", token: "jwt", resume: "key-1", ack: 0 });
    last().deliver({ type: "joined", room: "r", peers: 2, initiator: true, resume: "key-2", resumed: true, acked: 2 });
    assert.deepEqual(last().of("signal"), [{ type: "signal", seq: 3, data: { type: "candidate", n: 3 } }]);
    peer.options.handlers.onSignal({ type: "candidate", n: 4 });
    assert.equal(last().of("signal").at(-1).seq, 4, "numbering goes on");
  });

  test("signals from the server are applied once, in order, and acked; a resume asks for what follows", async () => {
    const peer = await joined();
    last().deliver({ type: "signal", seq: 1, data: { type: "offer", sdp: "o" } });
    last().deliver({ type: "signal", seq: 2, data: { type: "candidate", c: 1 } });
    last().deliver({ type: "signal", seq: 1, data: { type: "offer", sdp: "o" } }); // replayed
    await flush();
    assert.deepEqual(peer.applied.map((d) => d.type), ["offer", "candidate"]);
    assert.deepEqual(last().of("ack").map((m) => m.seq), [1, 2, 2]);
    last().drop(1006);
    mock.timers.tick(0);
    last().accept();
    assert.equal(last().sent[0].ack, 2);
  });

  test("a signal that skips ahead is not applied: the client resumes to get what it missed", async () => {
    const peer = await joined();
    last().deliver({ type: "signal", seq: 2, data: { type: "candidate" } });
    await flush();
    assert.deepEqual(peer.applied, []);
    assert.equal(sockets.length, 2);
  });

  test("a signal the server does not ack within a second means a dead socket: resumed at once", async () => {
    const peer = await joined();
    peer.options.handlers.onSignal({ type: "offer", sdp: "restart" });
    mock.timers.tick(900);
    assert.equal(sockets.length, 1);
    mock.timers.tick(400);
    assert.equal(sockets.length, 2);
    assert.match(events.notes.at(-1), /not acknowledged/);
  });

  test("a socket silent for 1.5 s is resumed; pings keep a live one", async () => {
    await joined();
    for (let i = 0; i < 4; i++) mock.timers.tick(250);
    assert.ok(last().of("ping").length >= 2, "a ping every 500 ms");
    last().deliver({ type: "pong" });
    mock.timers.tick(1250);
    assert.equal(sockets.length, 1, "heard 1.25 s ago");
    mock.timers.tick(500);
    assert.equal(sockets.length, 2);
    assert.match(events.notes.at(-1), /silent/);
  });

  test("a browser network change or a dropped path resumes at once, once per burst", async () => {
    const peer = await joined();
    mock.timers.tick(1000);
    navigator.connection.dispatchEvent(new Event("change"));
    window.dispatchEvent(new Event("online"));
    assert.equal(sockets.length, 2, "one reconnect for the burst");
    mock.timers.tick(1000);
    window.dispatchEvent(new Event("online"));
    assert.equal(sockets.length, 3, "online on its own");
    mock.timers.tick(1000);
    peer.options.handlers.onIceStateChange("disconnected", "poor");
    assert.equal(sockets.length, 4, "the path dropped");
  });

  test("a restart offer from our peer once connected resumes the socket, and the offer goes on the new one", async () => {
    const peer = await joined();
    peer.options.handlers.onSignal({ type: "offer", sdp: "first" });
    assert.equal(sockets.length, 1, "the first offer is no restart");
    last().deliver({ type: "ack", seq: 1 });
    peer.options.handlers.onIceStateChange("connected", "good");
    mock.timers.tick(1000);
    peer.options.handlers.onSignal({ type: "offer", sdp: "restart" });
    assert.equal(sockets.length, 2);
    last().accept();
    last().deliver({ type: "joined", room: "r", peers: 2, initiator: true, resume: "key-2", resumed: true, acked: 1 });
    assert.deepEqual(last().of("signal").map((m) => m.data.sdp), ["restart"]);
  });

  test("offline waits for online, which does not wait for the backoff of a failed attempt", async () => {
    await joined();
    mock.timers.tick(1000);
    navigator.onLine = false;
    window.dispatchEvent(new Event("offline"));
    assert.equal(sockets.length, 1, "a socket opened offline could only fail");
    navigator.onLine = true;
    window.dispatchEvent(new Event("online"));
    assert.equal(sockets.length, 2);
    last().drop(1006); // the new network's route was not there yet
    mock.timers.tick(50);
    window.dispatchEvent(new Event("online"));
    assert.equal(sockets.length, 3, "the failed socket's backoff is not waited out");
  });

  test("resume-expired: the client starts over without a key, from seq 1, and negotiates again", async () => {
    const peer = await joined();
    peer.options.handlers.onSignal({ type: "candidate" });
    last().deliver({ type: "signal", seq: 1, data: { type: "offer", sdp: "o" } });
    last().drop(1006);
    mock.timers.tick(0);
    last().accept();
    last().drop(4412, "resume-expired");
    mock.timers.tick(0);
    last().accept();
    assert.deepEqual(last().sent[0], { type: "auth", token: "jwt" });
    last().deliver({ type: "joined", room: "r", peers: 2, initiator: true, resume: "key-3", resumed: false, acked: 0 });
    assert.equal(peer.restarts, 1);
    assert.deepEqual(last().of("signal"), [], "the old seat's signals are moot");
    peer.options.handlers.onSignal({ type: "offer", sdp: "again" });
    assert.equal(last().of("signal")[0].seq, 1);
  });

  test("slow-consumer: the seat is resumed at once with its key", async () => {
    await joined();
    last().drop(4429, "slow-consumer");
    mock.timers.tick(0);
    last().accept();
    assert.equal(last().sent[0].resume, "key-1");
  });

  test("forbidden: the join fails with a typed error and is not tried again", async () => {
    last().accept();
    last().drop(4403, "forbidden");
    await assert.rejects(joining, (err) => err instanceof RoomError && err.code === "forbidden" && /forbidden/.test(err.message));
    mock.timers.tick(10_000);
    assert.equal(sockets.length, 1);
  });

  test("in a call, a final error ends it with the typed error", async () => {
    await joined();
    last().drop(4410, "room-expired");
    assert.equal(events.ended[0]?.code, "room-expired");
    assert.deepEqual(manager.peer.closed, { endedBefore: true });
  });

  /** Ends the default client (a refused join) and joins again with `options`, e.g. a token source. */
  async function rejoin(options) {
    last().accept();
    last().drop(4403, "forbidden");
    await flush();
    joining = joinRoom(manager, { room: "r", stream: null, events: handler, ...options });
    joining.then((s) => (session = s), () => {});
  }

  test("with a fixed token, unauthorized in a call is final", async () => {
    await joined();
    last().drop(4401, "unauthorized");
    assert.equal(events.ended[0]?.code, "unauthorized");
    mock.timers.tick(10_000);
    assert.equal(sockets.length, 1);
  });

  test("a token that expires mid-call: the seat is resumed with the source's current token", async () => {
    let current = "jwt-1";
    await rejoin({ token: () => current });
    await joined();
    assert.deepEqual(last().sent[0], { type: "auth", token: "jwt-1" });
    current = "jwt-2";
    last().drop(4401, "unauthorized"); // the server closes a socket at its token's expiry
    mock.timers.tick(0);
    last().accept();
    assert.deepEqual(last().sent[0], { type: "auth", token: "jwt-2", resume: "key-1", ack: 0 });
    await joined({ resumed: true });
    assert.equal(events.ended.length, 0);
  });

  test("a token source with nothing newer: the same token refused again ends the call", async () => {
    await rejoin({ token: () => "jwt-old" });
    await joined();
    last().drop(4401, "unauthorized");
    mock.timers.tick(0);
    last().accept();
    assert.equal(last().sent[0].token, "jwt-old");
    last().drop(4401, "unauthorized");
    assert.equal(events.ended[0]?.code, "unauthorized");
  });

  test("a token source's promise is awaited before the first message", async () => {
    await rejoin({ token: async () => "jwt-async" });
    last().accept();
    assert.equal(last().sent.length, 0);
    await flush();
    assert.deepEqual(last().sent[0], { type: "auth", token: "jwt-async" });
  });

  test("reconnects back off and are bounded", async () => {
    await joined();
    for (let i = 0; i < 40 && !events.ended.length; i++) {
      last().drop(1006);
      mock.timers.tick(5000);
    }
    assert.ok(sockets.length <= 16, `at most 15 attempts (opened ${sockets.length})`);
    assert.equal(events.ended.length, 1);
  });

  test("hang-up is a bye signal; a bye from the other side ends the call", async () => {
    const peer = await joined();
    const { leave } = await joining;
    last().deliver({ type: "signal", seq: 1, data: { type: "bye" } });
    assert.equal(events.ended[0]?.code, "bye");
    assert.deepEqual(peer.closed, { endedBefore: true });
    assert.deepEqual(peer.applied, []);
    leave(); // idempotent after the end
    assert.equal(last().of("signal").length, 0);
  });

  test("our hang-up sends a bye that the other side will get even across a drop", async () => {
    await joined();
    const { leave } = await joining;
    leave();
    assert.deepEqual(last().of("signal").map((m) => m.data), [{ type: "bye" }]);
    assert.ok(manager.peer.closed);
  });
});
