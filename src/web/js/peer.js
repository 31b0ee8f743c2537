// The browser side of one peer: everything its RTCPeerConnection and its
// timers report reaches Rust through ONE closure, `notify(what, a, b)`, owned
// by the peer (src/web/peer/mod.rs), which turns it into an engine input.
// Each of these as its own wasm-bindgen closure would cost a closure type,
// an invoke shim and a destructor; here each is one line.
//
// what: 0 local candidate (a: its JSON)       1 ICE state (a: the state)
//       2 remote stream (a: a MediaStream)     3 negotiationneeded
//       4 candidate error (a: code, b: from a turn:/turns: server)
//       5 operation settled (a: local description type, b: its sdp)
//       6 operation failed (a: the error)      7 stats (a: the reports, or undefined)
//       8 the timer fired                      9 time for a stats sample
//       10 a signal() whose caller is gone failed (a: the error)

/** Sets the connection's handlers. */
export function listen(pc, notify) {
  pc.onicecandidate = (e) => e.candidate && notify(0, e.candidate.toJSON());
  pc.oniceconnectionstatechange = () => notify(1, pc.iceConnectionState);
  // A track sent without a stream still gets one, so onStream always has one.
  pc.ontrack = (e) => notify(2, e.streams[0] || new MediaStream([e.track]));
  pc.onnegotiationneeded = () => notify(3);
  pc.onicecandidateerror = (e) => notify(4, e.errorCode, /^turns?:/i.test(e.url || ""));
}

/** Removes them (the peer is closing: nothing may call a dropped closure). */
export function unlisten(pc) {
  pc.onicecandidate = pc.oniceconnectionstatechange = pc.ontrack = null;
  pc.onnegotiationneeded = pc.onicecandidateerror = null;
}

/**
 * One operation of the connection's chain: 0 setLocalDescription() (the
 * browser picks offer or answer), 1 setRemoteDescription({ type: a, sdp: b }),
 * 2 addIceCandidate(a). Reports 5 or 6; returns the operation's promise
 * (for `signal()`), or with `callerGone` reports its failure as 10 instead.
 */
export function run(pc, op, a, b, callerGone, notify) {
  const done = op === 0 ? pc.setLocalDescription() : op === 1 ? pc.setRemoteDescription({ type: a, sdp: b }) : pc.addIceCandidate(a);
  done.then(() => {
    const local = pc.localDescription;
    notify(5, local && local.type, local && local.sdp);
  }, (error) => notify(6, error));
  if (callerGone) done.catch((error) => notify(10, error));
  return done;
}

/** Every report of a `getStats()`, as plain objects, reported as 7. */
export function sample(pc, notify) {
  pc.getStats().then((report) => notify(7, [...report.values()]), () => notify(7));
}

/** `peer.stats()`: the reports mapped by `summarise` (a Rust function). */
export function stats(pc, summarise) {
  return pc.getStats().then((report) => summarise([...report.values()]));
}

/** The peer's one timer (8) or its sampling clock (9); returns the id. */
export function every(ms, repeat, notify) {
  return repeat ? setInterval(() => notify(9), ms) : setTimeout(() => notify(8), ms);
}
