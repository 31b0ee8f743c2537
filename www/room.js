// A call with someone else (another tab, another device) through the
// backend's signaling WebSocket, /api/calls/signal (protocol: server/README.md,
// "Signaling"). The room was made for two subjects (POST /api/calls/rooms);
// the JWT goes in the first message, never in the URL. The party that takes
// its seat second is told it is the initiator, so it offers. The network
// lab's pages use this module too.
//
// Nothing is lost across a dropped socket: every signal carries a sequence
// number; ours stay in `outbox` until the server acks them (it has stored
// them for the other party) and are sent again after a resume; the server's
// are acked once applied, and a resume asks for everything after the last
// one applied. So a restart offer the library makes while the socket is dead
// arrives late rather than never, and the library's own restart finishes the
// job.
//
// Real networks: a laptop that changes its address loses its socket without
// any close event. So the socket is resumed at once when the browser reports
// a network change, when our peer reports its path lost (ICE disconnected or
// failed, or a restart offer once connected), or when the server does not ack
// a signal within ACK_MS; pings every PING_MS catch the rest (SILENT_MS
// without a word).

const PING_MS = 500;
/** How often the timeouts below are checked. */
const CHECK_MS = 250;
const SILENT_MS = 1500;
const ACK_MS = 1000;
/** A socket that has not been let in (`joined`) by then is given up. */
const ADMIT_MS = 4000;
/** Backoff between failed attempts: 0, 100, 250, 500, ... up to 4 s (a new network may need a moment for its route). */
const BACKOFF_MS = [0, 100, 250, 500, 1000, 2000, 4000];
/** Consecutive attempts without being let in before signaling gives up. */
const MAX_ATTEMPTS = 15;
/** Two triggers closer than this (a burst of network events) make one reconnect. */
const DEBOUNCE_MS = 250;
/** The server keeps at most 256 unacked messages per seat; so do we. */
const MAX_OUTBOX = 256;
/** Our hang-up, sent as a signal so that it survives a dropped socket too. */
const BYE = "bye";

/** What the user reads for each typed error the server may send. */
const ERROR_TEXT = {
  unauthorized: "the sign-in was refused (unauthorized)",
  "auth-timeout": "the sign-in took too long (auth-timeout)",
  forbidden: "this room is for two other people (forbidden)",
  "not-found": "no such room, or it expired (not-found)",
  "seat-taken": "you are already in this room in another tab (seat-taken)",
  "room-expired": "the room expired (room-expired)",
  "resume-expired": "the call could not be resumed (resume-expired)",
  "slow-consumer": "this tab fell behind (slow-consumer)",
  "too-many-connections": "too many connections for this user (too-many-connections)",
  replaced: "the call was taken over by another tab (replaced)",
  "too-large": "a message was too large (too-large)",
  "rate-limited": "this tab sent too many messages (rate-limited)",
  unavailable: "the signaling service is unavailable (unavailable)",
};
/** Close codes for when the error message itself was lost. */
const CLOSE_CODES = {
  4401: "unauthorized", 4408: "auth-timeout", 4403: "forbidden", 4404: "not-found", 4409: "seat-taken",
  4410: "room-expired", 4412: "resume-expired", 4429: "slow-consumer", 4000: "replaced", 1013: "too-many-connections",
  1009: "too-large", 1008: "rate-limited",
};
/** Errors after which trying again cannot help. */
const FINAL = new Set(["unauthorized", "forbidden", "not-found", "room-expired", "replaced", "too-large"]);

/** A typed signaling error: `code` is the server's (e.g. "forbidden"). */
export class RoomError extends Error {
  constructor(code, detail) {
    super(ERROR_TEXT[code] ?? detail ?? code);
    this.name = "RoomError";
    this.code = code;
  }
}

/**
 * Joins `room` and calls the other party. `token` is the JWT, or a function
 * that returns the current one (a string or a promise of one), asked for
 * every socket: the server closes a socket when its token expires
 * (`unauthorized`), and a call with a token source resumes with the new
 * token instead of ending. `events` receives
 * `state(who, state, quality)`, `stream(s)`, `close(who)`, `error(who, err)`,
 * `note(text)` (room events for the timeline) and `ended(err)` (the call is
 * over for a signaling reason: the other side hung up, or a RoomError).
 * Options: `iceServers` (explicit servers; default the manager's), `policy`
 * ("all" | "relay"). Resolves, once the room has been joined and the local
 * peer created, to `{ peer, leave() }`; rejects with a RoomError if the room
 * cannot be joined.
 */
export function joinRoom(manager, { room, token, stream, policy = "all", iceServers, events }) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/api/calls/signal?room=${encodeURIComponent(room)}`;
  let socket = null;
  let admitted = false; // `joined` received on the current socket
  let resumeKey = null;
  let lastError = null; // the code of the last `error` on the current socket
  let lastHeard = 0;
  let openedAt = -Infinity;
  let attempts = 0; // consecutive sockets not let in
  let retryTimer = 0; // a reconnect is scheduled
  let seated = false; // `joined` at least once: we have a call to keep
  let peer = null;
  let peerSeen = false; // the other party has held its seat at some point
  let connectedOnce = false; // our peer's ICE has been connected
  let left = false;
  let sentToken = null; // the token the current socket authenticated with
  let expiredToken = null; // the last token refused after we had a seat

  // Ours: numbered from 1, kept until acked. Theirs: `received` applied in order.
  let sentSeq = 0;
  let outbox = [];
  let ackDue = 0; // when the oldest unacked signal should have been acked
  let received = 0;
  const held = []; // their signals that arrive while the peer is being created
  let chain = Promise.resolve(); // signals are applied in order
  const apply = (data) => {
    chain = chain.then(() => peer.signal(data)).catch((err) => events.error("me", err));
  };

  const write = (message) => {
    if (admitted && socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  };
  const transmit = (entry) => {
    if (!admitted) return;
    write({ type: "signal", seq: entry.seq, data: entry.data });
    ackDue ||= performance.now() + ACK_MS;
  };
  const sendSignal = (data) => {
    if (outbox.length >= MAX_OUTBOX) return end(new RoomError("outbox-full", "too many signals the server has not acknowledged"));
    const entry = { seq: ++sentSeq, data };
    outbox.push(entry);
    transmit(entry);
  };
  const acked = (seq) => {
    outbox = outbox.filter((entry) => entry.seq > seq);
    ackDue = outbox.length && admitted ? performance.now() + ACK_MS : 0;
  };

  let pinger = 0;
  let rejectJoin = () => {};
  const cleanUp = () => {
    left = true;
    clearInterval(pinger);
    clearTimeout(retryTimer);
    removeNetworkListeners();
  };
  /** Hangs up: tells the other side (a signal, so it survives a socket drop) and closes. */
  const leave = () => {
    if (left) return;
    const last = socket;
    if (admitted) sendSignal({ type: BYE });
    cleanUp();
    peer?.close();
    // Long enough for the bye's ack in the usual case; it is not waited for.
    setTimeout(() => last?.close(1000), outbox.length ? 500 : 0);
  };
  /** The call is over for a signaling reason. */
  const end = (err) => {
    if (left) return;
    const joining = !peer;
    cleanUp();
    socket?.close(1000);
    // The reason first: closing the peer fires its onClose, which would read as a failed path.
    if (joining) rejectJoin(err);
    else events.ended(err);
    peer?.close();
  };

  /** Every message of the current socket. */
  const onMessage = (message) => {
    switch (message.type) {
      case "joined":
        return onJoined(message);
      case "signal":
        if (!Number.isInteger(message.seq) || message.seq <= received) {
          // Replayed after a resume whose ack we sent but the server had not seen: ack it again.
          if (message.seq <= received) write({ type: "ack", seq: received });
          return;
        }
        if (message.seq !== received + 1) return connect("a signal went missing");
        received = message.seq;
        write({ type: "ack", seq: received });
        if (message.data?.type === BYE) {
          events.note("the other side hung up");
          return end(Object.assign(new Error("the other side left"), { code: BYE }));
        }
        if (peer) apply(message.data);
        else held.push(message.data);
        return;
      case "ack":
        return acked(message.seq);
      case "peer-joined":
        events.note(`${message.peer ?? "the other side"} joined`);
        // A second join is the other side starting over: what it had not
        // received is gone, so negotiate again.
        if (peerSeen && peer) peer.restartIce();
        peerSeen = true;
        return;
      case "peer-resumed":
        return events.note(`${message.peer ?? "the other side"} resumed`);
      case "peer-left":
        // Its seat stays: a hang-up comes as a bye, this is a dropped socket.
        return events.note(`${message.peer ?? "the other side"} lost its connection; waiting for it to resume`);
      case "error":
        // bad-message and bad-seq close nothing; every other error precedes the close.
        if (message.code !== "bad-message" && message.code !== "bad-seq") lastError = message.code;
        return events.note(`signaling: ${message.code}`);
    }
  };

  const onJoined = (message) => {
    admitted = true;
    attempts = 0;
    resumeKey = message.resume;
    if (message.peer) peerSeen = true;
    if (message.resumed) {
      events.note("signaling resumed");
      acked(message.acked ?? 0);
      outbox.forEach(transmit);
      return;
    }
    // A fresh seat: both counters start again, and what was unacked is moot.
    sentSeq = 0;
    received = 0;
    outbox = [];
    ackDue = 0;
    held.length = 0;
    if (seated) {
      events.note("signaling started over; negotiating again");
      peer?.restartIce();
      return;
    }
    seated = true;
    const who = message.peer ?? "the other side";
    events.note(message.initiator ? `joined; ${who} is here, calling` : "joined; waiting for the other side");
    createPeer(message.initiator);
  };

  let resolveJoin = () => {};
  const createPeer = async (initiator) => {
    try {
      peer = await manager.createPeer({
        initiator,
        stream,
        iceServers,
        iceTransportPolicy: policy,
        handlers: {
          onSignal: (data) => {
            sendSignal(data);
            // An offer once connected is a restart: the library found the path
            // lost, and the socket most likely went with it. The offer waits in
            // the outbox for the resumed socket.
            if (data?.type === "offer" && connectedOnce) connect("the call is restarting", true);
          },
          onIceStateChange: (state, quality) => {
            connectedOnce ||= state === "connected" || state === "completed";
            events.state("me", state, quality);
            // The path died; the socket most likely with it: do not wait for the pings to tell.
            if (state === "disconnected" || state === "failed") connect("the call dropped", true);
          },
          onNetworkQualityChange: (level, stats) => events.network?.("me", level, stats),
          onStream: (s) => events.stream(s),
          onClose: () => events.close("me"),
          onError: (err) => events.error("me", err),
        },
      });
    } catch (err) {
      end(err);
      return;
    }
    if (left) {
      peer.close();
      return;
    }
    held.splice(0).forEach(apply);
    resolveJoin({ peer, leave });
  };

  /**
   * A (new) socket; once a seat is held, it resumes that seat. A `hint`
   * (network change, call dropped) right after a connect is the same event,
   * unless that socket has failed already (offline, then online again).
   */
  function connect(why, hint = false) {
    if (left) return;
    const now = performance.now();
    if (hint && now - openedAt < DEBOUNCE_MS && socket?.readyState !== WebSocket.CLOSED) return;
    if (attempts >= MAX_ATTEMPTS) return end(new RoomError(lastError ?? "unreachable", "the signaling server cannot be reached"));
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (socket) events.note(`signaling reconnects (${why})`);
    const previous = socket;
    const current = new WebSocket(url);
    socket = current;
    admitted = false;
    lastError = null;
    ackDue = 0;
    attempts += 1;
    openedAt = lastHeard = now;
    previous?.close(1000);
    current.addEventListener("open", () => {
      const authenticate = (jwt) => {
        if (current !== socket || current.readyState !== WebSocket.OPEN) return;
        sentToken = jwt;
        const resume = resumeKey ? { resume: resumeKey, ack: received } : {};
        current.send(JSON.stringify({ type: "auth", token: jwt, ...resume }));
      };
      // A token source that fails sends no token: the server refuses it like any other.
      let jwt;
      try {
        jwt = typeof token === "function" ? token() : token;
      } catch {
        jwt = null;
      }
      if (typeof jwt?.then === "function") jwt.then(authenticate, () => authenticate(null));
      else authenticate(jwt);
    });
    current.addEventListener("message", (event) => {
      if (current !== socket || left) return;
      lastHeard = performance.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return events.note("signaling: a message that is not JSON");
      }
      onMessage(message);
    });
    current.addEventListener("close", (event) => {
      if (current !== socket || left) return;
      onClosed(lastError ?? CLOSE_CODES[event.code] ?? null);
    });
  }

  /** The current socket closed, with this typed error if any. */
  const onClosed = (code) => {
    admitted = false;
    if (code === "resume-expired") {
      // The server no longer holds what we missed: take the seat anew.
      resumeKey = null;
    } else if (code === "unauthorized" && seated && typeof token === "function" && sentToken !== expiredToken) {
      // The token ran out mid-call: resume with the current one. The same
      // token refused twice means the app has no newer one: that is final.
      expiredToken = sentToken;
    } else if (FINAL.has(code) || (!seated && code)) {
      // Before the first `joined` every typed refusal is final.
      return end(new RoomError(code));
    }
    // slow-consumer: resume at once; anything else: back off a little.
    const delay = code === "slow-consumer" || code === "resume-expired" ? 0 : BACKOFF_MS[Math.min(attempts, BACKOFF_MS.length - 1)];
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => connect(code ?? "closed"), delay);
  };

  // The browser saw the network change: the socket probably belongs to the old one.
  // Offline, a new socket could only fail: `online` follows.
  const onNetworkChange = () => seated && navigator.onLine !== false && connect("the network changed", true);
  const connection = navigator.connection;
  window.addEventListener("online", onNetworkChange);
  window.addEventListener("offline", onNetworkChange);
  connection?.addEventListener?.("change", onNetworkChange);
  function removeNetworkListeners() {
    window.removeEventListener("online", onNetworkChange);
    window.removeEventListener("offline", onNetworkChange);
    connection?.removeEventListener?.("change", onNetworkChange);
  }

  return new Promise((resolve, reject) => {
    resolveJoin = resolve;
    rejectJoin = reject;
    connect("first");
    let lastPing = 0;
    pinger = setInterval(() => {
      const now = performance.now();
      if (retryTimer) return; // a reconnect is already scheduled
      if (!admitted && now - openedAt > ADMIT_MS) connect("not let in");
      else if (admitted && now - lastHeard > SILENT_MS) connect("silent");
      else if (ackDue && now > ackDue) connect("a signal was not acknowledged");
      else if (admitted && now - lastPing >= PING_MS) {
        lastPing = now;
        write({ type: "ping" });
      }
    }, CHECK_MS);
  });
}
