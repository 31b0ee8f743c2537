// Entry point of the demo: wires the buttons to ice-peer. Secrets stay in
// closure variables here; only URLs, states and figures reach the DOM.
import init, { PeerManager, classifyQuality, qualityLabel } from "/pkg/ice_peer.js";
import { startLoopbackCall } from "./call.js";
import { joinRoom } from "./room.js";
import { renderInfo, renderServers } from "./ice-panel.js";
import { createSyntheticStream } from "./media.js";
import { setUpPreflight } from "./preflight-panel.js";
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
// Subjects the demo signs in as: the same rules as a room's `peer`.
const SUB_PATTERN = /^[^\s]{1,128}$/;

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
  $("sign-in").disabled = !SUB_PATTERN.test($("sub").value.trim());
  $("refresh-ice").disabled = !manager;
  $("outage").disabled = !token;
  $("start-call").disabled = !manager || !!call;
  $("create-room").disabled = !token || !!call || !SUB_PATTERN.test($("peer-sub").value.trim());
  $("join-room").disabled = !manager || !!call || !$("room").checkValidity();
  $("restart-ice").disabled = !call;
  $("hang-up").disabled = !call;
}

/** POSTs `body` as JSON; an error answer becomes an Error with the server's sentence. */
async function postJson(url, body, headers = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    const reason = await res.json().then((b) => b?.error, () => null);
    throw new Error(`${url.split("?")[0]} answered HTTP ${res.status}${typeof reason === "string" ? `: ${reason}` : ""}`);
  }
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

let renewal = 0;
/** A new dev token five minutes before this one expires (retried each minute), so a long call and the manager keep working. */
function renewBefore(sub, expiresAt) {
  clearTimeout(renewal);
  renewal = setTimeout(async () => {
    try {
      const next = await postJson("/api/dev/token", { sub });
      token = next.token;
      renewBefore(sub, next.expiresAt);
    } catch {
      renewBefore(sub, Date.now() + 5 * 60_000);
    }
  }, Math.max(expiresAt - Date.now() - 5 * 60_000, 60_000));
}

async function signIn() {
  const { token: jwt, sub, expiresAt } = await postJson("/api/dev/token", { sub: $("sub").value.trim() });
  token = jwt;
  renewBefore(sub, expiresAt);
  hangUp(); // the old manager's peers go with it
  manager?.destroy();
  // Short retries and wait so the demo reaches the fallback in seconds, not the default ~7 s.
  manager = new PeerManager({ token: () => token, retries: 1, retryDelayMs: 500, timeoutMs: 3000, createPeerWaitMs: 2500, debug });
  setText("signed-in-as", `Signed in as ${sub}.`);
  $("sign-in").textContent = "Sign in again";
  await refreshIceServers();
}

/** One direction of NetworkQualityStats, or "—" when that direction is not graded (nothing flows that way). */
function describeDirection(figures) {
  if (!figures) return "—";
  return `MOS ${figures.mos.toFixed(1)}, ${Math.round(figures.packetLossPct)} % lost, ${Math.round(figures.jitterMs)} ms jitter`;
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
  /** Each direction of our peer's network quality apart: a sender learns of its own uplink's loss too. */
  network(who, _level, stats) {
    if (who !== "caller" && who !== "me") return;
    setText("network-send", describeDirection(stats.send));
    setText("network-receive", describeDirection(stats.receive));
  },
  ended(err) {
    // The other side hung up, or signaling refused us for good (a typed error).
    logTimeline("room", `call over: ${errorText(err)}`);
    endCall(err?.code === "bye" ? "Call ended: the other side left." : `Call ended: ${errorText(err)}.`);
  },
  note(text) {
    logTimeline("room", text);
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
    const { peer, leave } = await joinRoom(manager, { room, token: () => token, stream: media.stream, policy, events: callEvents });
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

/** Creates a room for this subject and the one in "Call"; the link invites them. */
async function createRoom() {
  const peer = $("peer-sub").value.trim();
  const { data } = await postJson("/api/calls/rooms", { peer }, { authorization: `Bearer ${token}` });
  $("room").value = data.room;
  showRoomLink();
  setStatus(`Room created for you and ${peer}; send them the link, then join.`);
}

/** The link that invites the other party: the room, and (dev sign-in) who they are. */
function showRoomLink() {
  const room = $("room").value.trim();
  const link = $("room-link");
  if (!$("room").checkValidity()) {
    link.removeAttribute("href");
    link.textContent = "the room's link";
  } else {
    const url = new URL(location.pathname, location.href);
    url.searchParams.set("room", room);
    if (SUB_PATTERN.test($("peer-sub").value.trim())) url.searchParams.set("as", $("peer-sub").value.trim());
    link.href = url.href;
    link.textContent = url.href;
  }
  updateButtons();
}

/** `?room=` and `?as=` (an invitation link) fill in the room and the name to sign in as. */
function setUpRoom() {
  const params = new URLSearchParams(location.search);
  const room = params.get("room");
  const as = params.get("as");
  if (room && /^[A-Za-z0-9_-]{1,64}$/.test(room)) $("room").value = room;
  $("sub").value = as && SUB_PATTERN.test(as) ? as : "alice";
  $("peer-sub").value = $("sub").value === "bob" ? "alice" : "bob";
  for (const id of ["room", "peer-sub"]) $(id).addEventListener("input", showRoomLink);
  $("sub").addEventListener("input", updateButtons);
  showRoomLink();
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
  for (const id of ["candidate-type", "rtt", "network-quality", "network-send", "network-receive"]) setText(id, "—");
  $("network-quality").dataset.level = "unknown";
  updateButtons();
}

async function toggleOutage() {
  const down = !outageDown;
  await postJson(`/api/dev/outage?down=${down}`, undefined, { authorization: `Bearer ${token}` });
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
onClick("create-room", createRoom);
onClick("join-room", joinRoomCall);
onClick("restart-ice", async () => {
  call?.caller.restartIce();
  logTimeline("app", "ICE restart requested");
});
onClick("hang-up", hangUp);
onClick("outage", toggleOutage);
setInterval(tick, 1000);
// Closing the tab hangs up: the other side gets the bye instead of waiting for a resume that never comes.
window.addEventListener("pagehide", () => call && hangUp());

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
