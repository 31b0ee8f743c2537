// @ts-check
// peer.js's decisions, against a fake RTCPeerConnection: which browser
// events are reported (no end-of-candidates, each remote stream once), when
// a data channel is opened, which call each operation makes and how it is
// reported, and that close() leaves no handler behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PeerConnection } from "../peer.js";
import { Operation, Report } from "../kinds.js";

/** @type {any} */
const global = globalThis;

/** What the fake connection was asked to do. @type {string[]} */
let calls = [];

class FakeConnection {
  /** @param {RTCConfiguration} config */
  constructor(config) {
    this.config = config;
    /** @type {any} */ this.onicecandidate = null;
    /** @type {any} */ this.oniceconnectionstatechange = null;
    /** @type {any} */ this.ontrack = null;
    /** @type {any} */ this.onnegotiationneeded = null;
    /** @type {any} */ this.onicecandidateerror = null;
    this.iceConnectionState = "new";
    this.signalingState = "stable";
    this.localDescription = null;
    /** @type {any} */ this.channel = null;
    /** @type {Promise<void>} */ this.next = Promise.resolve();
  }
  /** @param {unknown} track */
  addTrack(track) {
    calls.push(`addTrack ${track}`);
  }
  /** @param {string} label */
  createDataChannel(label) {
    calls.push(`createDataChannel ${label}`);
    this.channel = { close: () => calls.push("channel.close") };
    return this.channel;
  }
  setLocalDescription() {
    calls.push("setLocalDescription");
    return this.next;
  }
  /** @param {RTCSessionDescriptionInit} description */
  setRemoteDescription(description) {
    calls.push(`setRemoteDescription ${description.type} ${description.sdp}`);
    return this.next;
  }
  /** @param {RTCIceCandidateInit} candidate */
  addIceCandidate(candidate) {
    calls.push(`addIceCandidate ${candidate.candidate}`);
    return this.next;
  }
  /** @param {RTCConfiguration} config */
  setConfiguration(config) {
    this.config = config;
  }
  async getStats() {
    return new Map([["a", { type: "candidate-pair" }]]);
  }
  close() {
    calls.push("close");
  }
}

class FakeStream {
  /** @param {unknown[]} [tracks] @param {string} [id] */
  constructor(tracks = [], id = `made-${tracks.length}`) {
    this.id = id;
    this.tracks = tracks;
  }
  getTracks() {
    return this.tracks;
  }
}

global.RTCPeerConnection = FakeConnection;
global.MediaStream = FakeStream;

/** A connection with its reports collected. */
function attached() {
  calls = [];
  /** @type {unknown[][]} */
  const reports = [];
  const connection = new PeerConnection([], false);
  connection.attach((report, a, b) => {
    reports.push(b === undefined ? (a === undefined ? [report] : [report, a]) : [report, a, b]);
  });
  return { connection, pc: /** @type {FakeConnection} */ (/** @type {unknown} */ (connection.pc)), reports };
}

test("relay-only is the transport policy, at creation and on configure()", () => {
  const { connection, pc } = attached();
  assert.equal(pc.config.iceTransportPolicy, "all");
  connection.configure([{ urls: "turn:t" }], true);
  assert.deepEqual(pc.config, { iceServers: [{ urls: "turn:t" }], iceTransportPolicy: "relay" });
});

test("a candidate is reported by its JSON; the end of gathering is not", () => {
  const { pc, reports } = attached();
  pc.onicecandidate({ candidate: { toJSON: () => ({ candidate: "c1" }) } });
  pc.onicecandidate({ candidate: null });
  assert.deepEqual(reports, [[Report.LocalCandidate, { candidate: "c1" }]]);
});

test("ICE state, negotiationneeded and candidate errors are reported", () => {
  const { pc, reports } = attached();
  pc.iceConnectionState = "checking";
  pc.oniceconnectionstatechange();
  pc.onnegotiationneeded();
  pc.onicecandidateerror({ errorCode: 401, url: "turn:t.example:3478" });
  assert.deepEqual(reports, [
    [Report.IceState, "checking"],
    [Report.NegotiationNeeded],
    [Report.CandidateError, 401, "turn:t.example:3478"],
  ]);
});

test("each remote stream is reported once; a track without one gets its own", () => {
  const { pc, reports } = attached();
  const stream = new FakeStream([], "s1");
  pc.ontrack({ streams: [stream], track: "audio" });
  pc.ontrack({ streams: [stream], track: "video" });
  pc.ontrack({ streams: [], track: "lone" });
  assert.equal(reports.length, 2);
  assert.deepEqual(reports[0], [Report.RemoteStream, stream]);
  assert.equal(/** @type {any} */ (reports[1][1]).tracks[0], "lone");
});

test("a data channel is opened only by an initiator with nothing to send", () => {
  const withTracks = attached();
  withTracks.connection.start(/** @type {any} */ (new FakeStream(["mic"])), true);
  assert.deepEqual(calls, ["addTrack mic"]);
  const answerer = attached();
  answerer.connection.start(undefined, false);
  assert.deepEqual(calls, []);
  const initiator = attached();
  initiator.connection.start(undefined, true);
  assert.deepEqual(calls, ["createDataChannel ice-peer"]);
});

test("each operation makes its call and reports how it settled", async () => {
  const { connection, pc, reports } = attached();
  await connection.op(Operation.SetLocal, undefined, "", false);
  await connection.op(Operation.SetRemote, "offer", "v=0", false);
  await connection.op(Operation.AddCandidate, { candidate: "c2" }, "", false);
  assert.deepEqual(calls, ["setLocalDescription", "setRemoteDescription offer v=0", "addIceCandidate c2"]);
  assert.deepEqual(reports, [[Report.OpSettled], [Report.OpSettled], [Report.OpSettled]]);

  const error = new Error("bad sdp");
  pc.next = Promise.reject(error);
  await assert.rejects(connection.op(Operation.SetRemote, "answer", "x", true), error);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(reports.slice(3), [
    [Report.OpFailed, error],
    [Report.OrphanFailed, error],
  ]);
});

test("stats: a sample is reported, and stats() resolves with what notify returns", async () => {
  calls = [];
  /** @type {unknown[]} */
  const reports = [];
  const connection = new PeerConnection([], false);
  connection.attach((report, a) => {
    reports.push(report, a);
    return "summary";
  });
  assert.equal(await connection.stats(), "summary");
  connection.sample();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(reports, [Report.AppStats, [{ type: "candidate-pair" }], Report.Sample, [{ type: "candidate-pair" }]]);
});

test("the timer fires once; re-arming replaces it; a negative delay cancels", async () => {
  const { connection, reports } = attached();
  connection.timer(1);
  connection.timer(2);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(reports, [[Report.Timer]]);
  connection.timer(1);
  connection.timer(-1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(reports.length, 1);
});

test("close() detaches every handler, closes the channel and the connection", () => {
  const { connection, pc } = attached();
  connection.start(undefined, true);
  connection.sampling(1000);
  connection.close();
  for (const handler of ["onicecandidate", "oniceconnectionstatechange", "ontrack", "onnegotiationneeded", "onicecandidateerror"]) {
    assert.equal(/** @type {any} */ (pc)[handler], null, handler);
  }
  assert.deepEqual(calls, ["createDataChannel ice-peer", "channel.close", "close"]);
});
