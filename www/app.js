// Entry point of the demo: wires the buttons to ice-peer. Secrets stay in
// closure variables here; only URLs, states and figures reach the DOM.
import init, { PeerManager, classifyQuality, qualityLabel } from "/pkg/ice_peer.js";
import { startLoopbackCall } from "./call.js";
import { joinRoom } from "./room.js";
import { renderInfo, renderServers } from "./ice-panel.js";
import { createSyntheticStream } from "./media.js";
import { renderDirections, setUpPreflight } from "./preflight-panel.js";
import { $, clearTimeline, formatBytes, logTimeline, renderQuality, setStatus, setText } from "./ui.js";

// `?debug` turns on the library's redacted console logging.
const debug = new URLSearchParams(location.search).has("debug");
let token = null; // the dev JWT: sent by the library, never displayed or logged
let manager = null;
// { caller, callee, media, unsubscribe, leave }: `caller` is this page's peer
// whose quality is shown; `callee` is the second local peer of a self-call,
// null in a room call (whose `leave` hangs up the signaling too).
let call = null;
let outageDown = false;

const showQuality = (q) => renderQuality(q, qualityLabel(q));
const errorText = (err) =>
  err?.name === "IceServersError" ? `${err.kind}${err.status ? ` (HTTP ${err.status})` : ""}` : String(err?.message ?? err);

/** Runs a button's action with the button disabled; failures go to the status line. */
function onClick(id, action) {
  const button = $(id);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      setStatus(`${button.textContent.trim()} failed: ${errorText(err)}`, true);
    } finally {
      updateButtons();
    }
  });
}

let updatePreflight = () => {};
function updateButtons() {
  updatePreflight();
  $("sign-in").disabled = false;
  $("refresh-ice").disabled = !manager;
  $("outage").disabled = !token;
  $("start-call").disabled = !manager || !!call;
  $("join-room").disabled = !manager || !!call || !$("room").checkValidity();
  $("restart-ice").disabled = !call;
  $("hang-up").disabled = !call;
}

async function postJson(url) {
  const res = await fetch(url, { method: "POST" });
  if (!res.ok) throw new Error(`${url.split("?")[0]} answered HTTP ${res.status}`);
  return res.json();
}

async function refreshIceServers() {
  try {
    renderServers(await manager.getIceServers());
    setStatus("ICE servers fetched.");
  } catch (err) {
    setStatus(`ICE servers unavailable: ${errorText(err)}. Calls will use the fallback servers.`, true);
  }
  renderInfo(manager.iceServersInfo);
}

async function signIn() {
  const { token: jwt, sub } = await postJson("/api/dev/token?sub=demo-user");
  token = jwt;
  hangUp(); // the old manager's peers go with it
  manager?.destroy();
  // Short retries and wait so the demo reaches the fallback in seconds, not the default ~7 s.
  manager = new PeerManager({ token: () => token, retries: 1, retryDelayMs: 500, timeoutMs: 3000, createPeerWaitMs: 2500, debug });
  setText("signed-in-as", `Signed in as ${sub}.`);
  $("sign-in").textContent = "Sign in again";
  await refreshIceServers();
}

const callEvents = {
  state(who, state, quality) {
    logTimeline(who, state);
    if (who === "caller" || who === "me") showQuality(quality);
  },
  stream(stream) {
    $("remote-video").srcObject = stream;
  },
  close(who) {
    logTimeline(who, "closed");
    // The library closed our peer (ICE could not recover), or the other side left.
    if (who === "caller" || who === "me") endCall("Call ended: the connection could not recover.");
    if (who === "peer") endCall("Call ended: the other side left.");
  },
  error(who, err) {
    logTimeline(who, `error: ${errorText(err)}`);
  },
  note(text) {
    logTimeline("room", text);
  },
  network(who, _level, stats) {
    if (who === "caller" || who === "me") renderDirections(stats);
  },
};

async function startCall() {
  const policy = $("force-relay").checked ? "relay" : "all";
  clearTimeline();
  $("remote-video").srcObject = null;
  showQuality("connecting");
  logTimeline("app", `calling, ICE transport policy "${policy}"`);
  const media = createSyntheticStream($("local-canvas"));
  try {
    const { caller, callee } = await startLoopbackCall(manager, { stream: media.stream, policy, events: callEvents });
    const unsubscribe = caller.subscribe(() => showQuality(caller.quality));
    call = { caller, callee, media, unsubscribe };
  } catch (err) {
    media.stop();
    showQuality(classifyQuality("failed"));
    throw err;
  }
  setStatus(`Call started (policy "${policy}").`);
  await tick();
}

async function joinRoomCall() {
  const room = $("room").value.trim();
  const policy = $("force-relay").checked ? "relay" : "all";
  clearTimeline();
  $("remote-video").srcObject = null;
  showQuality("connecting");
  logTimeline("app", `joining room "${room}", ICE transport policy "${policy}"`);
  const media = createSyntheticStream($("local-canvas"));
  try {
    const { peer, leave } = await joinRoom(manager, { room, token, stream: media.stream, policy, events: callEvents });
    const unsubscribe = peer.subscribe(() => showQuality(peer.quality));
    call = { caller: peer, callee: null, media, unsubscribe, leave };
  } catch (err) {
    media.stop();
    showQuality(classifyQuality("failed"));
    throw err;
  }
  setStatus(`In room "${room}".`);
  await tick();
}

/** The room from `?room=`, else a fresh one; the link below the controls shares it. */
function setUpRoom() {
  const input = $("room");
  const given = new URLSearchParams(location.search).get("room");
  input.value = given && /^[A-Za-z0-9_-]{1,64}$/.test(given) ? given : `room-${Math.random().toString(36).slice(2, 8)}`;
  const showLink = () => {
    const url = new URL(location.href);
    url.search = "";
    url.searchParams.set("room", input.value.trim());
    $("room-link").href = url.href;
    $("room-link").textContent = url.href;
    updateButtons();
  };
  input.addEventListener("input", showLink);
  showLink();
}

function hangUp() {
  endCall("Call ended.");
}

/** Closes both peers and stops the local media; safe to call twice. */
function endCall(message) {
  if (!call) return;
  const { caller, callee, media, unsubscribe, leave } = call;
  call = null;
  unsubscribe();
  caller.close();
  callee?.close();
  leave?.();
  media.stop();
  // close() releases the handlers, so no state event follows: show the closed state ourselves.
  showQuality(classifyQuality("closed"));
  logTimeline("app", "call ended");
  setStatus(message);
  for (const id of ["candidate-type", "rtt", "network-quality"]) setText(id, "—");
  renderDirections(null);
  $("network-quality").dataset.level = "unknown";
  updateButtons();
}

async function toggleOutage() {
  const down = !outageDown;
  await postJson(`/api/dev/outage?down=${down}`);
  outageDown = down;
  manager?.invalidate(); // drop the cache so the next call really asks the endpoint
  $("outage").setAttribute("aria-pressed", String(down));
  $("outage").textContent = down ? "Restore endpoint" : "Simulate endpoint down";
  setStatus(down ? "Endpoint down (simulated), cache dropped: a new call uses the fallback servers." : "Endpoint restored.");
}

let lastServersKey = "";
let polling = false;
/** Once a second: expiry countdown, the servers the call really uses, and its stats. */
async function tick() {
  if (manager) renderInfo(manager.iceServersInfo);
  if (!call || polling) return;
  polling = true;
  const current = call;
  try {
    const servers = current.caller.connection.getConfiguration().iceServers ?? [];
    const key = JSON.stringify(servers.map((s) => s.urls));
    if (key !== lastServersKey) {
      lastServersKey = key;
      renderServers(servers);
    }
    // A room call has one local peer: it both sends and receives.
    const [sent, received] = await Promise.all([current.caller.stats(), (current.callee ?? current.caller).stats()]);
    if (call !== current) return; // hung up meanwhile
    setText("candidate-type", sent.localCandidateType ?? "—");
    const level = current.caller.networkQuality;
    $("network-quality").dataset.level = level;
    setText("network-quality", level === "unknown" ? "measuring…" : level);
    setText("rtt", sent.roundTripTimeMs == null ? "—" : `${sent.roundTripTimeMs < 10 ? sent.roundTripTimeMs.toFixed(1) : Math.round(sent.roundTripTimeMs)} ms`);
    setText("bytes-sent", formatBytes(sent.bytesSent));
    setText("bytes-received", formatBytes(received.bytesReceived));
  } catch (err) {
    if (call === current) setStatus(`Stats unavailable: ${errorText(err)}`, true);
  } finally {
    polling = false;
  }
}

onClick("sign-in", signIn);
onClick("refresh-ice", refreshIceServers);
onClick("start-call", startCall);
onClick("join-room", joinRoomCall);
onClick("restart-ice", async () => {
  call?.caller.restartIce();
  logTimeline("app", "ICE restart requested");
});
onClick("hang-up", hangUp);
onClick("outage", toggleOutage);
setInterval(tick, 1000);

try {
  await init();
  renderServers([]);
  setUpRoom();
  updatePreflight = setUpPreflight(() => manager);
  renderQuality("none", "No call");
  updateButtons();
  setStatus("Ready. Sign in to fetch ICE servers.");
} catch (err) {
  setStatus(`Could not load the ice-peer package: ${errorText(err)}`, true);
}
