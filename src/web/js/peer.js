// The browser side of one peer: its RTCPeerConnection, the connection's
// events, the operations the engine asks for, stats and the peer's timers.
// Every decision is made in Rust (src/core/engine.rs, driven by
// src/web/peer/mod.rs); this is only the plumbing, a few lines here where
// from wasm every property read is an import and every callback type a shim.
//
// Rust hears everything through ONE function, `notify(what, a, b)`, given to
// attach(), with flat values. `what` (mirrored in src/web/peer/notify.rs):
//   0 a local candidate; a: its toJSON()
//   1 iceconnectionstatechange; a: the state
//   2 a remote stream, once per stream; a: the stream
//   3 negotiationneeded
//   4 icecandidateerror; a: the STUN code, b: the server's URL (a URL never
//     holds the credential)
//   5 the operation started first settled (Rust then reads localDescription())
//   6 that operation failed; a: the browser's error
//   7 an operation whose signal() caller did not get its promise failed
//     (reported besides 6); a: the error
//   8 the timer fired
//   9 a stats sample; a: the report's stats objects, as an array
//  10 the same for peer.stats(); what notify returns is the promise's value
export class PeerConnection {
  // Throws what the RTCPeerConnection constructor throws (bad servers).
  constructor(iceServers, relay) {
    this.pc = new RTCPeerConnection({
      iceServers,
      iceTransportPolicy: relay ? "relay" : "all",
    });
  }

  attach(notify) {
    const pc = this.pc;
    const seen = new Set();
    this.notify = notify;
    // null marks the end of gathering: nothing to send.
    pc.onicecandidate = (e) => e.candidate && notify(0, e.candidate.toJSON());
    pc.oniceconnectionstatechange = () => notify(1, pc.iceConnectionState);
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
        notify(2, stream);
      }
    };
    pc.onnegotiationneeded = () => notify(3);
    pc.onicecandidateerror = (e) => notify(4, e.errorCode, e.url);
  }

  // Adds the local tracks; the first offer follows from negotiationneeded.
  // An initiator with nothing to send opens a data channel so that there is
  // something to negotiate.
  start(stream, initiator) {
    const tracks = stream ? stream.getTracks() : [];
    for (const track of tracks) this.pc.addTrack(track, stream);
    if (initiator && !tracks.length) this.channel = this.pc.createDataChannel("ice-peer");
  }

  // One operation of the chain: 0 setLocalDescription() (the browser makes
  // the offer or answer the signaling state calls for), 1
  // setRemoteDescription({ type: a, sdp: b }), 2 addIceCandidate(a).
  // Returns its promise, for the signal() caller when there is one.
  op(kind, a, b, orphan) {
    const pc = this.pc;
    const notify = this.notify;
    const done =
      kind === 0
        ? pc.setLocalDescription()
        : kind === 1
          ? pc.setRemoteDescription({ type: a, sdp: b })
          : pc.addIceCandidate(a);
    // These reactions hold no reference to the connection (Rust reads the
    // local description): Chrome keeps the promise of an operation that
    // close() cut short alive, and with it what its reactions hold. With the
    // connection captured here, the 1000-cycle suite hit the 500-connection cap.
    done.then(
      () => notify(5),
      (error) => notify(6, error),
    );
    if (orphan) done.catch((error) => notify(7, error));
    return done;
  }

  localDescription() {
    return this.pc.localDescription;
  }

  isStable() {
    return this.pc.signalingState === "stable";
  }

  configure(iceServers, relay) {
    this.pc.setConfiguration({ iceServers, iceTransportPolicy: relay ? "relay" : "all" });
  }

  restartIce() {
    this.pc.restartIce();
  }

  // A rejected getStats (a closed connection) is no sample. As with op(),
  // the reactions hold only notify.
  sample() {
    const notify = this.notify;
    this.pc.getStats().then((report) => notify(9, [...report.values()]), () => {});
  }

  stats() {
    const notify = this.notify;
    return this.pc.getStats().then((report) => notify(10, [...report.values()]));
  }

  // Arms the one timer for `ms` (replacing it); a negative `ms` only cancels.
  timer(ms) {
    clearTimeout(this.timeout);
    if (ms >= 0) this.timeout = setTimeout(() => this.notify(8), ms);
  }

  // A sample every `ms`; 0 stops.
  sampling(ms) {
    clearInterval(this.interval);
    if (ms > 0) this.interval = setInterval(() => this.sample(), ms);
  }

  // Detaches every handler and stops the timers, then closes. Nothing
  // reaches notify from here.
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
