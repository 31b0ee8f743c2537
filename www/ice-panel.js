// The ICE servers panel: URLs, masked credentials, source and expiry countdown.
import { $, setText } from "./ui.js";

const MASK = "•••";

/**
 * Shows `servers` (what the library returned, or what a live connection uses).
 * Only URLs are rendered; a username or credential is replaced by a mask and
 * never copied into the DOM.
 */
export function renderServers(servers) {
  const list = $("ice-servers");
  list.replaceChildren();
  for (const server of servers ?? []) {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    for (const url of urls) {
      const li = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = url;
      li.append(code);
      if (server.username || server.credential) {
        const secret = document.createElement("span");
        secret.className = "secret";
        secret.textContent = `username ${MASK}, credential ${MASK}`;
        li.append(secret);
      }
      list.append(li);
    }
  }
  if (!list.children.length) {
    const li = document.createElement("li");
    li.textContent = "None yet.";
    list.append(li);
  }
}

function formatRemaining(ms) {
  if (ms <= 0) return "expired (refetched on next use)";
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

/** Source and countdown from `manager.iceServersInfo` (null before the first fetch). */
export function renderInfo(info) {
  setText("ice-source", info ? info.source : "—");
  $("ice-source").dataset.source = info ? info.source : "";
  setText("ice-expiry", info?.expiresAt ? formatRemaining(info.expiresAt - Date.now()) : "—");
}
