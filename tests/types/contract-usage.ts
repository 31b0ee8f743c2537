// Uses every name of ../../../shared/api/ice-peer.d.ts through the generated
// package, the way the messenger does. `tsc --strict --noEmit` on this file
// fails when pkg/ice_peer.d.ts drifts from the contract. It is type-checked,
// never run.
import init, {
  PeerManager,
  Peer,
  classifyQuality,
  qualityLabel,
  type IceConnectionState,
  type Quality,
  type IceServer,
  type IceServersErrorKind,
  type IceServersError,
  type PeerManagerOptions,
  type IceServersInfo,
  type SignalData,
  type PeerEventHandlers,
  type PeerOptions,
  type PeerStats,
  type NetworkQuality,
  type NetworkQualityStats,
  type PreflightOptions,
  type PreflightCheck,
  type PreflightReport,
} from "../../pkg/ice_peer.js";

// Exact equality of two types, so a widened `any` or a renamed member fails.
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

assertType<Equals<IceConnectionState, "new" | "checking" | "connected" | "completed" | "disconnected" | "failed" | "closed">>();
assertType<Equals<Quality, "good" | "connecting" | "poor" | "failed">>();
// Every contract kind, plus the addition "aborted" (destroy() ended the request).
assertType<Equals<IceServersErrorKind, "no-token" | "unauthorized" | "http" | "network" | "timeout" | "invalid-response" | "aborted">>();
assertType<Equals<ReturnType<typeof classifyQuality>, Quality>>();
assertType<Equals<Parameters<typeof classifyQuality>[0], IceConnectionState>>();
assertType<Equals<ReturnType<typeof qualityLabel>, string>>();
assertType<Equals<Parameters<typeof qualityLabel>[0], Quality>>();
assertType<Equals<ReturnType<PeerManager["getIceServers"]>, Promise<IceServer[]>>>();
assertType<Equals<ReturnType<PeerManager["createPeer"]>, Promise<Peer>>>();
assertType<Equals<PeerManager["iceServersInfo"], IceServersInfo | null>>();
assertType<Equals<PeerManager["peerCount"], number>>();
assertType<Equals<Peer["connection"], RTCPeerConnection>>();
assertType<Equals<Peer["iceConnectionState"], IceConnectionState>>();
assertType<Equals<Peer["quality"], Quality>>();
assertType<Equals<ReturnType<Peer["stats"]>, Promise<PeerStats>>>();
assertType<Equals<ReturnType<Peer["signal"]>, Promise<void>>>();
assertType<Equals<ReturnType<Peer["subscribe"]>, () => void>>();
assertType<Equals<IceServersInfo["source"], "network" | "cache" | "fallback">>();
assertType<Equals<IceServersError["name"], "IceServersError">>();
assertType<Equals<IceServersError["status"], number | undefined>>();
assertType<Equals<PeerStats["localCandidateType"], string | null>>();
assertType<Equals<PeerOptions["iceTransportPolicy"], "all" | "relay" | undefined>>();
assertType<Equals<Peer["networkQuality"], NetworkQuality>>();
assertType<Equals<NetworkQuality, "unknown" | "excellent" | "good" | "poor" | "bad">>();
type DirectionStats = { mos: number; packetLossPct: number; jitterMs: number };
assertType<Equals<NetworkQualityStats["send"], DirectionStats | null>>();
assertType<Equals<NetworkQualityStats["receive"], DirectionStats | null>>();
assertType<Equals<Parameters<NonNullable<PeerEventHandlers["onNetworkQualityChange"]>>, [NetworkQuality, NetworkQualityStats]>>();
assertType<Equals<ReturnType<PeerManager["preflight"]>, Promise<PreflightReport>>>();
assertType<Equals<Parameters<PeerManager["preflight"]>, [options?: PreflightOptions]>>();
assertType<Equals<PreflightOptions, { iceServers?: IceServer[]; timeoutMs?: number }>>();
assertType<Equals<PreflightCheck["kind"], "stun" | "turn">>();
assertType<Equals<PreflightCheck["transport"], "udp" | "tcp" | "tls">>();
assertType<Equals<PreflightCheck["ms"] | PreflightCheck["errorCode"], number | null>>();
assertType<Equals<PreflightCheck["errorText"], string | null>>();
assertType<Equals<PreflightReport["verdict"], "direct" | "relay" | "blocked">>();
assertType<Equals<PreflightReport["relayTransports"], ("udp" | "tcp" | "tls")[]>>();

const auth = { token: "jwt" as string | null };

export async function messengerCall(stream: MediaStream, send: (data: SignalData) => void): Promise<void> {
  await init();

  const options: PeerManagerOptions = {
    endpoint: "/api/calls/ice-servers",
    token: () => auth.token,
    cacheTtlMs: 3_600_000,
    fallbackIceServers: [{ urls: "stun:stun.l.google.com:19302" }],
    retries: 3,
    retryDelayMs: 1000,
    timeoutMs: 5000,
    createPeerWaitMs: 4000,
    debug: false,
  };
  const asyncToken: PeerManagerOptions["token"] = async () => Promise.resolve(auth.token ?? undefined);
  const manager = new PeerManager({ ...options, token: asyncToken });
  new PeerManager({ token: "fixed" }).destroy();

  try {
    const servers: IceServer[] = await manager.getIceServers();
    const urls: string | string[] = servers[0].urls;
    const username: string | undefined = servers[0].username;
    const credential: string | undefined = servers[0].credential;
    void [urls, username, credential];
  } catch (e) {
    const error = e as IceServersError;
    const kind: IceServersErrorKind = error.kind;
    const attempts: number = error.attempts;
    const status: number | undefined = error.status;
    const message: string = error.message;
    void [kind, attempts, status, message];
  }
  const info: IceServersInfo | null = manager.iceServersInfo;
  const fetchedAt: number | null = info ? info.fetchedAt : null;
  const expiresAt: number | null = info ? info.expiresAt : null;
  void [fetchedAt, expiresAt];
  manager.invalidate();

  const handlers: PeerEventHandlers = {
    onSignal: (data: SignalData) => {
      if (data.type === "candidate") {
        const init: RTCIceCandidateInit = data.candidate;
        void init;
      } else {
        const sdp: string = data.sdp;
        void sdp;
      }
      send(data);
    },
    onConnect: () => {},
    onStream: (remote: MediaStream) => void remote,
    onIceStateChange: (state: IceConnectionState, quality: Quality) => {
      const label: string = qualityLabel(quality);
      const same: Quality = classifyQuality(state);
      void [label, same];
    },
    onClose: () => {},
    onError: (error: Error) => void error,
    onNetworkQualityChange: (level: NetworkQuality, figures: NetworkQualityStats) => {
      const worse: number[] = [figures.mos, figures.packetLossPct, figures.jitterMs, figures.roundTripTimeMs];
      const send: number | null = figures.send ? figures.send.mos : null;
      const receive: number | null = figures.receive ? figures.receive.packetLossPct + figures.receive.jitterMs : null;
      void [level, worse, send, receive];
    },
  };
  const peerOptions: PeerOptions = { initiator: true, stream, iceServers: [], iceTransportPolicy: "relay", handlers };
  const peer: Peer = await manager.createPeer(peerOptions);

  const connection: RTCPeerConnection = peer.connection;
  const state: IceConnectionState = peer.iceConnectionState;
  const quality: Quality = peer.quality;
  void [connection, state, quality];
  await peer.signal({ type: "offer", sdp: "v=0" });
  await peer.signal({ type: "candidate", candidate: { candidate: "", sdpMid: "0" } });
  peer.setEventHandlers({ onClose: () => {} });
  const unsubscribe: () => void = peer.subscribe(() => {});
  unsubscribe();
  peer.restartIce();
  const stats: PeerStats = await peer.stats();
  const figures: Array<number | null> = [stats.roundTripTimeMs, stats.packetsLost, stats.jitterMs, stats.bytesSent, stats.bytesReceived];
  void figures;
  peer.close();
  const network: NetworkQuality = peer.networkQuality;
  void network;
  const preflightOptions: PreflightOptions = { iceServers: [{ urls: "stun:stun.example.com" }], timeoutMs: 5000 };
  const report: PreflightReport = await manager.preflight(preflightOptions);
  const defaults: PreflightReport = await manager.preflight();
  const check: PreflightCheck = report.checks[0];
  const row: [string, "stun" | "turn", "udp" | "tcp" | "tls", boolean, number | null, number | null, string | null] =
    [check.url, check.kind, check.transport, check.ok, check.ms, check.errorCode, check.errorText];
  const verdict: "direct" | "relay" | "blocked" = defaults.verdict;
  const relays: ("udp" | "tcp" | "tls")[] = report.relayTransports;
  const took: number = report.durationMs;
  void [row, verdict, relays, took];
  const count: number = manager.peerCount;
  void count;
  manager.destroy();
}

// Things the contract forbids must not type-check.
// @ts-expect-error: token is required
new PeerManager({});
// @ts-expect-error: not an ICE state
classifyQuality("bogus");
// @ts-expect-error: not a preflight option
void new PeerManager({ token: "t" }).preflight({ timeout: 5 });
// @ts-expect-error: not a transport policy
const badPolicy: PeerOptions = { initiator: true, iceTransportPolicy: "tcp" };
void badPolicy;
