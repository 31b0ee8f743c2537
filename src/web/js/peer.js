// @ts-check
// The browser side of one peer: its RTCPeerConnection, the connection's
// events, the operations the engine asks for, stats and the peer's timers.
// Every decision about them is made in Rust (src/core/engine.rs, driven by
// src/web/peer/mod.rs); this module decides only which browser events are
// worth a report (each remote stream once, no end-of-candidates) and when a
// data channel is opened.
//
// Rust hears everything through one function, `notify(report, a, b)`, given
// to attach(): `report` is a `Report` (kinds.js), `a` and `b` its values.
import { Operation, Report } from "./kinds.js";

/**
 * @callback Notify
 * @param {Report} report
 * @param {unknown} [a]
 * @param {unknown} [b]
 * @returns {unknown}
 */

export class PeerConnection {
  /**
   * Throws what the RTCPeerConnection constructor throws (bad servers).
   * @param {RTCIceServer[]} iceServers
   * @param {boolean} relay only relayed candidates
   */
  constructor(iceServers, relay) {
    this.pc = new RTCPeerConnection(configuration(iceServers, relay));
    /** Set by attach(); nothing is reported before it. @type {Notify} */
    this.notify = () => undefined;
  }

  /** @param {Notify} notify */
  attach(notify) {
    const pc = this.pc;
    /** @type {Set<string>} */
    const seen = new Set();
    this.notify = notify;
    // A null candidate marks the end of gathering: nothing to send.
    pc.onicecandidate = (e) => e.candidate && notify(Report.LocalCandidate, e.candidate.toJSON());
    pc.oniceconnectionstatechange = () => notify(Report.IceState, pc.iceConnectionState);
    // A track event comes per track; the app hears of each stream once. A
    // track sent without a stream gets one of its own.
    pc.ontrack = (e) => {
      let stream = e.streams[0];
      try {
        if (!stream) stream = new MediaStream([e.track]);
      } catch {
        return;
      }
      if (!seen.has(stream.id)) {
        seen.add(stream.id);
        notify(Report.RemoteStream, stream);
      }
    };
    pc.onnegotiationneeded = () => notify(Report.NegotiationNeeded);
    pc.onicecandidateerror = (e) => notify(Report.CandidateError, e.errorCode, e.url);
  }

  /**
   * Adds the local tracks; the first offer follows from negotiationneeded.
   * An initiator with nothing to send opens a data channel so that there is
   * something to negotiate.
   * @param {MediaStream | undefined} stream
   * @param {boolean} initiator
   */
  start(stream, initiator) {
    const tracks = stream ? stream.getTracks() : [];
    for (const track of tracks) this.pc.addTrack(track, /** @type {MediaStream} */ (stream));
    /** @type {RTCDataChannel | undefined} */
    this.channel = initiator && !tracks.length ? this.pc.createDataChannel("ice-peer") : undefined;
  }

  /**
   * Starts one operation of the chain; its outcome is reported (also as
   * `OrphanFailed` when `orphan`: no caller holds the promise). Returns its
   * promise, for the signal() caller when there is one.
   * @param {Operation} operation
   * @param {unknown} a SetRemote: the description's type; AddCandidate: the candidate
   * @param {string} b SetRemote: the SDP
   * @param {boolean} orphan
   * @returns {Promise<void>}
   */
  op(operation, a, b, orphan) {
    const pc = this.pc;
    const notify = this.notify;
    const done =
      operation === Operation.SetLocal
        ? pc.setLocalDescription()
        : operation === Operation.SetRemote
          ? pc.setRemoteDescription({ type: /** @type {RTCSdpType} */ (a), sdp: b })
          : pc.addIceCandidate(/** @type {RTCIceCandidateInit} */ (a));
    // These reactions hold no reference to the connection (Rust reads the
    // local description): Chrome keeps the promise of an operation that
    // close() cut short alive, and with it what its reactions hold.
    done.then(
      () => notify(Report.OpSettled),
      (error) => notify(Report.OpFailed, error),
    );
    if (orphan) done.catch((error) => notify(Report.OrphanFailed, error));
    return done;
  }

  localDescription() {
    return this.pc.localDescription;
  }

  isStable() {
    return this.pc.signalingState === "stable";
  }

  /**
   * @param {RTCIceServer[]} iceServers
   * @param {boolean} relay
   */
  configure(iceServers, relay) {
    this.pc.setConfiguration(configuration(iceServers, relay));
  }

  restartIce() {
    this.pc.restartIce();
  }

  /** A stats sample, reported; a rejected getStats (a closed connection) is none. */
  sample() {
    const notify = this.notify;
    this.pc.getStats().then(
      (report) => notify(Report.Sample, [...report.values()]),
      () => {},
    );
  }

  /** A promise of what Rust makes of a stats report (`PeerStats`). */
  stats() {
    const notify = this.notify;
    return this.pc.getStats().then((report) => notify(Report.AppStats, [...report.values()]));
  }

  /**
   * Arms the one timer for `ms`, replacing it; a negative `ms` only cancels.
   * @param {number} ms
   */
  timer(ms) {
    clearTimeout(this.timeout);
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timeout = ms >= 0 ? setTimeout(() => this.notify(Report.Timer), ms) : undefined;
  }

  /**
   * A sample every `ms`; 0 stops.
   * @param {number} ms
   */
  sampling(ms) {
    clearInterval(this.interval);
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.interval = ms > 0 ? setInterval(() => this.sample(), ms) : undefined;
  }

  /** Detaches every handler and stops the timers, then closes. Nothing reaches notify from here. */
  close() {
    const pc = this.pc;
    pc.onicecandidate = pc.oniceconnectionstatechange = pc.ontrack = null;
    pc.onnegotiationneeded = pc.onicecandidateerror = null;
    this.timer(-1);
    this.sampling(0);
    if (this.channel) this.channel.close();
    pc.close();
  }
}

/**
 * @param {RTCIceServer[]} iceServers
 * @param {boolean} relay
 * @returns {RTCConfiguration}
 */
function configuration(iceServers, relay) {
  return { iceServers, iceTransportPolicy: relay ? "relay" : "all" };
}
