// A messenger screen: sign in, a conversation with Bob, a call button, and
// the call overlay while a call is up.
import { useState, useSyncExternalStore } from "react";
import type { Call } from "./call-service";
import { CallService } from "./call-service";
import { AuthStore } from "./auth-store";
import { CallOverlay } from "./CallOverlay";
import { createSyntheticMedia } from "./media";
import type { SyntheticMedia } from "./media";
import { useIceServers } from "./use-ice-servers";
import { usePreflight, verdictText } from "./use-preflight";

// App-wide singletons, as a messenger would hold them (outside React, so
// StrictMode's double effects cannot tear them down). The call service is
// made on first render, not at import: ice-peer's classes need init() first.
const auth = new AuthStore();
let callService: CallService | null = null;
const getCallService = () => (callService ??= new CallService(auth));

type ActiveCall = Call & { media: SyntheticMedia };

export function App() {
  const calls = getCallService();
  const user = useSyncExternalStore(auth.subscribe, () => auth.user);
  const ice = useIceServers(user ? calls : null);
  const network = usePreflight(user ? calls : null);
  const [call, setCall] = useState<ActiveCall | null>(null);
  const [ended, setEnded] = useState(false);
  const [remoteStream, setRemoteStream] = useState<MediaStream | null>(null);
  const [relayOnly, setRelayOnly] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const signIn = () => auth.signInDev("alice").catch((e: unknown) => setError(String(e)));

  const startCall = async () => {
    call?.hangUp();
    call?.media.stop();
    setError(null);
    setRemoteStream(null);
    const media = createSyntheticMedia();
    try {
      const c = await calls.startLoopbackCall(media.stream, { relayOnly, onRemoteStream: setRemoteStream });
      setCall({ ...c, media });
      setEnded(false);
    } catch (e) {
      media.stop();
      setError(`Call failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const hangUp = () => {
    call?.hangUp();
    call?.media.stop();
    setEnded(true); // keep the closed peer: the overlay then shows its final quality
  };

  return (
    <div className="app">
      <aside className="sidebar" aria-label="Conversations">
        <h1>Messenger</h1>
        <p data-testid="user">{user ? `Signed in as ${user}` : "Signed out"}</p>
        {!user && (
          <button type="button" data-testid="sign-in" onClick={signIn}>Sign in</button>
        )}
        <ul>
          <li className="active">Bob</li>
        </ul>
      </aside>
      <main className="conversation">
        <header className="conversation-header">
          <h2>Bob</h2>
          <label>
            <input type="checkbox" checked={relayOnly} onChange={(e) => setRelayOnly(e.target.checked)} />
            {" "}Relay only
          </label>
          <button type="button" data-testid="call" disabled={!user || (call !== null && !ended)} onClick={startCall}>
            Call
          </button>
        </header>
        <p className="ice" data-testid="ice-status">
          {ice.status === "idle" && "Sign in to make calls."}
          {ice.status === "loading" && "Getting call servers…"}
          {ice.status === "success" && `${ice.data.length} call server(s) ready (${ice.info?.source ?? "?"}).`}
          {ice.status === "error" && `Call servers unavailable (${ice.error.message}); calls use the fallback.`}
        </p>
        <p className="network-check" data-testid="network-check" data-verdict={network.status === "done" ? network.report.verdict : ""}>
          {network.status === "testing" && "Testing your network…"}
          {network.status === "done" && verdictText(network.report)}
          {network.status === "error" && `Network test unavailable (${network.error.message}).`}
          {network.status !== "idle" && network.status !== "testing" && (
            <button type="button" onClick={network.retest}>Test again</button>
          )}
        </p>
        {error && <p role="alert" className="error">{error}</p>}
        {call && (
          <CallOverlay
            peer={call.caller}
            remoteStream={remoteStream}
            ended={ended}
            onHangUp={hangUp}
            onRestartIce={() => call.caller.restartIce()}
          />
        )}
      </main>
    </div>
  );
}
