/** ICE connection states, as `RTCPeerConnection.iceConnectionState` reports them. */
export type IceConnectionState =
  | "new" | "checking" | "connected" | "completed"
  | "disconnected" | "failed" | "closed";

/**
 * Connection quality shown by the call overlays, derived from the ICE state:
 *   connected | completed -> "good"        (label "Good", green)
 *   checking  | new       -> "connecting"  (label "Connecting...", orange)
 *   disconnected          -> "poor"        (label "Poor", orange-red)
 *   failed    | closed    -> "failed"      (label "Failed", red)
 */
export type Quality = "good" | "connecting" | "poor" | "failed";

/** A normalised ICE server: always `urls`, never the deprecated `url`. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export type IceServersErrorKind =
  | "no-token"
  | "unauthorized"
  | "http"
  | "network"
  | "timeout"
  | "invalid-response"
  /** Addition: `destroy()` ended the request or its retries; nothing more is sent. */
  | "aborted";

/** What `getIceServers()` rejects with: an `Error` whose `name` is "IceServersError". */
export interface IceServersError extends Error {
  name: "IceServersError";
  kind: IceServersErrorKind;
  /** HTTP status of the last attempt, when there was a response. */
  status?: number;
  /** Requests sent before giving up (0 for "no-token"). */
  attempts: number;
}

export interface PeerManagerOptions {
  /** ICE servers endpoint. Default "/api/calls/ice-servers". */
  endpoint?: string;
  /** The JWT, sent as `Authorization: Bearer <token>`; a function is called before every request. */
  token: string | (() => string | null | undefined | Promise<string | null | undefined>);
  /** How long fetched servers are reused. Default 3_600_000 (1 h). A `ttl` in the response caps it. */
  cacheTtlMs?: number;
  /** Used when no servers can be fetched. Default [{ urls: "stun:stun.l.google.com:19302" }]. */
  fallbackIceServers?: IceServer[];
  /** Retries after a failed attempt. Default 3, delays min(retryDelayMs * 2^n, 30_000). */
  retries?: number;
  /** Base retry delay. Default 1000. */
  retryDelayMs?: number;
  /** Per-attempt timeout. Default 5000. */
  timeoutMs?: number;
  /** How long createPeer waits for uncached servers before using `fallbackIceServers`. Default 4000. */
  createPeerWaitMs?: number;
  /** Log what is used (ICE servers by URL, states) to the console; never a credential or a token. */
  debug?: boolean;
  /** Addition: ICE restarts per drop before the peer closes. Default 3. */
  restartAttempts?: number;
  /** Addition: how long `disconnected` may last before ICE is restarted. Default 3000. */
  disconnectedTimeoutMs?: number;
  /** Addition: how long one ICE restart may take to reconnect before it counts as failed. Default 10_000. */
  restartTimeoutMs?: number;
}

/** Where the servers last handed out came from. */
export interface IceServersInfo {
  source: "network" | "cache" | "fallback";
  /** ms since epoch of the fetch these servers came from; null for fallback. */
  fetchedAt: number | null;
  /** ms since epoch after which they are fetched again; null for fallback. */
  expiresAt: number | null;
}

/** JSON-serialisable message that the app carries to the remote peer over its own signaling channel. */
export type SignalData =
  | { type: "offer" | "answer"; sdp: string }
  | { type: "candidate"; candidate: RTCIceCandidateInit };

export interface PeerEventHandlers {
  /** Send this to the remote side (offer, answer, trickled candidate). */
  onSignal?(data: SignalData): void;
  /** ICE connected and media can flow. */
  onConnect?(): void;
  /** A remote media stream arrived. */
  onStream?(stream: MediaStream): void;
  /** Every iceConnectionState change, with its quality. */
  onIceStateChange?(state: IceConnectionState, quality: Quality): void;
  /** The peer is closed, locally or because ICE could not recover. */
  onClose?(): void;
  onError?(error: Error): void;
  /**
   * Addition: the graded network quality changed (see `NetworkQuality`), with
   * the figures of the sample that changed it. Also notifies `subscribe` listeners.
   */
  onNetworkQualityChange?(level: NetworkQuality, stats: NetworkQualityStats): void;
}

/**
 * Network quality graded from live stats, beside the ICE-state `Quality`.
 * A mean opinion score (E-model, as LiveKit grades calls) from packet loss,
 * jitter and round-trip time, sampled every 2 s once connected, for BOTH
 * directions: what this side receives (inbound RTP) and what the other side
 * receives of this side's media (its RTCP receiver reports:
 * remote-inbound-rtp). The level is the worse of the two:
 * "excellent" MOS >= 4.1, "good" >= 3.6, "poor" >= 2.6, "bad" below (also
 * when media stops arriving, or goes out and no report says it arrives);
 * "unknown" until measured. A call without media is graded on its round trip.
 * Drops at once, rises only after 3 better samples.
 */
export type NetworkQuality = "unknown" | "excellent" | "good" | "poor" | "bad";

/** The figures behind a `NetworkQuality` level. */
export interface NetworkQualityStats {
  /** Mean opinion score of the worse direction, 1 to 4.5. */
  mos: number;
  /** Packets lost over the last 2 s window in the worse direction, in percent. */
  packetLossPct: number;
  jitterMs: number;
  roundTripTimeMs: number;
  /** Each direction on its own; null where there is nothing to grade (e.g. nothing sent). */
  send: { mos: number; packetLossPct: number; jitterMs: number } | null;
  receive: { mos: number; packetLossPct: number; jitterMs: number } | null;
}

export interface PeerOptions {
  /** The caller side creates the offer. */
  initiator: boolean;
  /** Local media to send. */
  stream?: MediaStream;
  /** Explicit servers; absent or empty: the manager's servers, else `fallbackIceServers`. */
  iceServers?: IceServer[];
  /** "relay" forces TURN. Default "all". */
  iceTransportPolicy?: "all" | "relay";
  handlers?: PeerEventHandlers;
}

/** Figures from the selected candidate pair and inbound RTP, from getStats(). */
export interface PeerStats {
  /** "host" | "srflx" | "prflx" | "relay" of the local candidate in use, null before a pair is selected. */
  localCandidateType: string | null;
  roundTripTimeMs: number | null;
  packetsLost: number | null;
  jitterMs: number | null;
  bytesSent: number;
  bytesReceived: number;
}

/** Options of `PeerManager.preflight()`. */
export interface PreflightOptions {
  /** Servers to test instead of the manager's. */
  iceServers?: IceServer[];
  /** Deadline of each check, 1 to 60000. Default 5000. */
  timeoutMs?: number;
}

/** One URL tested by `preflight()`. */
export interface PreflightCheck {
  /** The URL tested, as the server list gives it (never a credential). */
  url: string;
  /** "stun": a server-reflexive address was asked for; "turn": a relay allocation. */
  kind: "stun" | "turn";
  /** The transport of that URL: "udp", "tcp", or "tls" for turns:. */
  transport: "udp" | "tcp" | "tls";
  ok: boolean;
  /** From the start of the check to its candidate; null when it failed. */
  ms: number | null;
  /** When it failed: the icecandidateerror code the browser gave (e.g. 401 wrong or expired credentials, 701 unreachable), else null, and a short reason. */
  errorCode: number | null;
  errorText: string | null;
}

/** What `preflight()` found. */
export interface PreflightReport {
  checks: PreflightCheck[];
  /**
   * "direct": a server-reflexive address was found, so a peer-to-peer path may work;
   * "relay": no reflexive address, but a relay works;
   * "blocked": nothing answered (calls will fail on this network).
   */
  verdict: "direct" | "relay" | "blocked";
  /** The transports over which a relay worked, best first ("udp" before "tcp" before "tls"). */
  relayTransports: ("udp" | "tcp" | "tls")[];
  durationMs: number;
}
