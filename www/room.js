// A call with someone else (another tab, another device) through the
// backend's signaling WebSocket, /api/calls/signal. The JWT goes in the first
// message, never in the URL. The party that joins second is told it is the
// initiator, so it offers; the first answers. The network lab's pages use
// this module too.
//
// Real networks: a laptop that changes its address loses its signaling socket
// along with its media path, often without any close event. So the socket is
// pinged every second; when it stays silent for 2.5 s, closes, or the call
// drops, a new socket resumes the same seat with the key the server gave.
// Signals made meanwhile wait in an outbox. The library restarts ICE by
// itself when the path dies; after an outage, both sides also call
// restartIce(), which sends again an offer that went into a dead socket.

const PING_MS = 1000;
const SILENT_MS = 2500;
const MAX_RECONNECTS = 20;

/**
 * Joins `room` and calls whoever else is in it. `events` receives
 * `state(who, state, quality)`, `stream(s)`, `close(who)`, `error(who, err)`
 * and `note(text)` (room events for the timeline). Options: `iceServers`
 * (explicit servers; default the manager's), `policy` ("all" | "relay") and
 * `restartAfterOutage` (default true: after a signaling outage, ask the peer
 * to restart, which also sends again an offer the outage may have eaten).
 * Resolves, once the room has been joined and the local peer created, to
 * `{ peer, leave() }`; rejects if the room cannot be joined.
 */
export function joinRoom(manager, { room, token, stream, policy = "all", iceServers, events, restartAfterOutage = true }) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/api/calls/signal?room=${encodeURIComponent(room)}`;
  let socket = null;
  let resumeKey = null;
  let lastHeard = 0;
  let reconnects = 0;
  let peer = null;
  let initiator = false;
  let left = false;
  const held = []; // signals that arrive while the peer is being created
  let chain = Promise.resolve(); // signals are applied in order
  const apply = (data) => {
    chain = chain.then(() => peer.signal(data)).catch((err) => events.error("me", err));
  };
  // Signals wait while the socket is down or not yet let in: a restart
  // offer made during an outage must reach the other side afterwards.
  let admitted = false;
  const outbox = [];
  const send = (message) => {
    if (admitted && socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    else if (message.type === "signal") outbox.push(message);
  };
  const flush = () => outbox.splice(0).forEach(send);
  // After an outage, either side asks its peer to restart: the library sends
  // an offer that went unanswered meanwhile again, or restarts ICE (perfect
  // negotiation settles two restarts that cross).
  const nudge = () => restartAfterOutage && peer?.restartIce();

  let pinger = 0;
  const leave = () => {
    left = true;
    clearInterval(pinger);
    socket?.close(1000);
    peer?.close();
  };

  return new Promise((resolve, reject) => {
    const createPeer = async (asInitiator) => {
      initiator = asInitiator;
      try {
        peer = await manager.createPeer({
          initiator,
          stream,
          iceServers,
          iceTransportPolicy: policy,
          handlers: {
            onSignal: (data) => send({ type: "signal", data }),
            onIceStateChange: (state, quality) => {
              events.state("me", state, quality);
              if (state === "disconnected" || state === "failed") connect("the call dropped");
            },
            onStream: (s) => events.stream(s),
            onClose: () => events.close("me"),
            onError: (err) => events.error("me", err),
          },
        });
      } catch (err) {
        leave();
        reject(err);
        return;
      }
      held.splice(0).forEach(apply);
      resolve({ peer, leave });
    };

    const onMessage = (message) => {
      switch (message.type) {
        case "joined":
          resumeKey = message.resume;
          admitted = true;
          flush();
          if (message.resumed) {
            events.note("signaling resumed");
            nudge();
          } else if (peer) {
            // Our seat was gone (the server saw the old socket leave): this call is over.
            events.note("the room was left meanwhile");
            events.close("peer");
          } else {
            events.note(message.initiator ? "joined; the other side is here, calling" : "joined; waiting for the other side");
            createPeer(message.initiator);
          }
          break;
        case "signal":
          if (peer) apply(message.data);
          else held.push(message.data);
          break;
        case "peer-joined":
          events.note("the other side joined");
          break;
        case "peer-resumed":
          events.note("the other side resumed");
          nudge();
          break;
        case "peer-left":
          events.note("the other side left");
          if (peer && !left) events.close("peer");
          break;
        case "error":
          events.note(`signaling: ${message.code}`);
          break;
      }
    };

    /** A (new) socket; once a seat is held, it resumes that seat. */
    function connect(why) {
      if (left || (socket && reconnects++ >= MAX_RECONNECTS)) return;
      if (socket) events.note(`signaling reconnects (${why})`);
      const previous = socket;
      const current = new WebSocket(url);
      socket = current;
      admitted = false;
      previous?.close(1000);
      lastHeard = performance.now();
      current.addEventListener("open", () =>
        current.send(JSON.stringify({ type: "auth", token, ...(resumeKey ? { resume: resumeKey } : {}) })));
      current.addEventListener("message", (event) => {
        lastHeard = performance.now();
        onMessage(JSON.parse(event.data));
      });
      current.addEventListener("close", (e) => {
        if (current !== socket || left) return;
        if (!resumeKey) {
          leave();
          reject(new Error(`could not join room "${room}" (${e.code === 4409 ? "room full" : `closed ${e.code}`})`));
        } else {
          setTimeout(() => current === socket && connect("closed"), 500);
        }
      });
    }

    connect("first");
    pinger = setInterval(() => {
      if (performance.now() - lastHeard > SILENT_MS) connect("silent");
      else send({ type: "ping" });
    }, PING_MS);
  });
}
