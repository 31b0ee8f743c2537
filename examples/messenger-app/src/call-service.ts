// The messenger's call layer: one PeerManager per signed-in app, fed the JWT
// from the auth store, creating the caller and callee sides of a call.
import { PeerManager } from "ice-peer";
import type { IceServer, IceServersInfo, Peer, PeerEventHandlers, PreflightReport, SignalData } from "ice-peer";
import type { AuthStore } from "./auth-store";

/** Carries SignalData to the other side; a real messenger sends it over its socket. */
export type SendSignal = (data: SignalData) => void;

export interface Call {
  caller: Peer;
  callee: Peer;
  hangUp(): void;
}

export interface CallOptions {
  /** Force TURN ("relay"), e.g. for users behind strict firewalls. */
  relayOnly?: boolean;
  onRemoteStream?: (stream: MediaStream) => void;
}

/**
 * Forwards signals in order, queued until the receiving peer exists, each
 * applied only after the previous one so an answer never overtakes its offer.
 */
function loopbackChannel(receiver: Promise<Peer>, onError: (err: unknown) => void): SendSignal {
  let chain: Promise<void> = Promise.resolve();
  return (data) => {
    chain = chain.then(async () => (await receiver).signal(data)).catch(onError);
  };
}

export class CallService {
  private readonly manager: PeerManager;
  private readonly unsubscribeAuth: () => void;

  constructor(auth: AuthStore) {
    // A function, so a refreshed token is picked up on the next request.
    this.manager = new PeerManager({ token: () => auth.token });
    // Sign-out or another user: never reuse servers fetched for the old token.
    this.unsubscribeAuth = auth.subscribe(() => this.manager.invalidate());
  }

  getIceServers(): Promise<IceServer[]> {
    return this.manager.getIceServers();
  }

  /** Which call servers answer from this network, and so whether calls can work here. */
  preflight(): Promise<PreflightReport> {
    return this.manager.preflight();
  }

  get iceServersInfo(): IceServersInfo | null {
    return this.manager.iceServersInfo;
  }

  /** The side that rings: sends `stream` and makes the offer. */
  createCaller(stream: MediaStream, send: SendSignal, handlers: PeerEventHandlers = {}, relayOnly = false): Promise<Peer> {
    return this.manager.createPeer({
      initiator: true,
      stream,
      iceTransportPolicy: relayOnly ? "relay" : "all",
      handlers: { ...handlers, onSignal: send },
    });
  }

  /** The side that answers. */
  createCallee(send: SendSignal, handlers: PeerEventHandlers = {}, relayOnly = false): Promise<Peer> {
    return this.manager.createPeer({
      initiator: false,
      iceTransportPolicy: relayOnly ? "relay" : "all",
      handlers: { ...handlers, onSignal: send },
    });
  }

  /**
   * Both ends of a call in this tab (the example has no second device): each
   * side's signals go straight to the other's `signal()`.
   */
  async startLoopbackCall(stream: MediaStream, options: CallOptions = {}): Promise<Call> {
    const relayOnly = options.relayOnly ?? false;
    const onError = (err: unknown) => console.warn("signaling failed:", err instanceof Error ? err.message : err);
    let resolveCaller!: (peer: Promise<Peer>) => void;
    const callerReady = new Promise<Peer>((resolve) => (resolveCaller = resolve));
    // Created together, so uncached servers are fetched once for both.
    const calleePeer = this.createCallee(
      loopbackChannel(callerReady, onError),
      options.onRemoteStream ? { onStream: options.onRemoteStream } : {},
      relayOnly,
    );
    const callerPeer = this.createCaller(stream, loopbackChannel(calleePeer, onError), {}, relayOnly);
    resolveCaller(callerPeer);
    const [caller, callee] = await Promise.all([callerPeer, calleePeer]);
    return {
      caller,
      callee,
      hangUp: () => {
        caller.close();
        callee.close();
      },
    };
  }

  /** Sign-out: close every peer and stop listening to the auth store. */
  destroy(): void {
    this.unsubscribeAuth();
    this.manager.destroy();
  }
}
