// A call with someone else (another tab, another device) through the
// backend's signaling WebSocket, /api/calls/signal. The JWT goes in the first
// message, never in the URL. The party that joins second is told it is the
// initiator, so it offers; the first answers.

/**
 * Joins `room` and calls whoever else is in it. `events` receives
 * `state(who, state, quality)`, `stream(s)`, `close(who)`, `error(who, err)`
 * and `note(text)` (room events for the timeline). Resolves, once the room
 * has been joined and the local peer created, to `{ peer, leave() }`;
 * rejects if the room cannot be joined.
 */
export function joinRoom(manager, { room, token, stream, policy, events }) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/calls/signal?room=${encodeURIComponent(room)}`);
  let peer = null;
  let left = false;
  const held = []; // signals that arrive while the peer is being created
  let chain = Promise.resolve(); // signals are applied in order
  const apply = (data) => {
    chain = chain.then(() => peer.signal(data)).catch((err) => events.error("me", err));
  };
  const leave = () => {
    left = true;
    socket.close(1000);
    peer?.close();
  };

  return new Promise((resolve, reject) => {
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "auth", token })));
    socket.addEventListener("close", (e) => {
      if (!peer) reject(new Error(`could not join room "${room}" (${e.code === 4409 ? "room full" : `closed ${e.code}`})`));
      else if (!left) events.note(`signaling closed (${e.code})`);
    });
    socket.addEventListener("message", async (event) => {
      const message = JSON.parse(event.data);
      switch (message.type) {
        case "joined": {
          events.note(message.initiator ? "joined; the other side is here, calling" : "joined; waiting for the other side");
          try {
            peer = await manager.createPeer({
              initiator: message.initiator,
              stream,
              iceTransportPolicy: policy,
              handlers: {
                onSignal: (data) => socket.send(JSON.stringify({ type: "signal", data })),
                onIceStateChange: (state, quality) => events.state("me", state, quality),
                onStream: (s) => events.stream(s),
                onClose: () => events.close("me"),
                onError: (err) => events.error("me", err),
              },
            });
          } catch (err) {
            socket.close(1000);
            reject(err);
            return;
          }
          held.splice(0).forEach(apply);
          resolve({ peer, leave });
          break;
        }
        case "signal":
          if (peer) apply(message.data);
          else held.push(message.data);
          break;
        case "peer-joined":
          events.note("the other side joined");
          break;
        case "peer-left":
          events.note("the other side left");
          if (peer && !left) events.close("peer");
          break;
        case "error":
          events.note(`signaling: ${message.code}`);
          break;
      }
    });
  });
}
