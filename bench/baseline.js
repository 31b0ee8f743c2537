// The minimal hand-written baseline: one RTCPeerConnection per side, offer,
// answer and trickled candidates wired by hand, servers fetched per call.
export async function fetchServers() {
  const response = await fetch("/api/calls/ice-servers", { headers: { Authorization: "Bearer bench" } });
  return (await response.json()).data.iceServers;
}

/** Two connections calling each other; resolves when both are connected. */
export function baselinePair(iceServers, stream) {
  const config = { iceServers, iceTransportPolicy: "relay" };
  const caller = new RTCPeerConnection(config);
  const callee = new RTCPeerConnection(config);
  caller.onicecandidate = (e) => e.candidate && callee.addIceCandidate(e.candidate).catch(() => {});
  callee.onicecandidate = (e) => e.candidate && caller.addIceCandidate(e.candidate).catch(() => {});
  if (stream) for (const track of stream.getTracks()) caller.addTrack(track, stream);
  else caller.createDataChannel("bench");
  const connected = (pc) => new Promise((resolve) => {
    const check = () => ["connected", "completed"].includes(pc.iceConnectionState) && resolve();
    pc.addEventListener("iceconnectionstatechange", check);
    check();
  });
  const done = Promise.all([connected(caller), connected(callee)]);
  (async () => {
    await caller.setLocalDescription(await caller.createOffer());
    await callee.setRemoteDescription(caller.localDescription);
    await callee.setLocalDescription(await callee.createAnswer());
    await caller.setRemoteDescription(callee.localDescription);
  })();
  return { done, close: () => { caller.close(); callee.close(); } };
}
