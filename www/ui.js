// Small DOM helpers shared by the demo's modules. Text only (textContent),
// never innerHTML, so nothing from the network is ever parsed as markup.

export const $ = (id) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
};

export function setText(id, text) {
  $(id).textContent = text;
}

/** Status line for the user (errors included); never receives a token or credential. */
export function setStatus(text, isError = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

/** Quality badge: the label comes from the library, the colour from the CSS class. */
export function renderQuality(quality, label) {
  const el = $("quality");
  el.dataset.quality = quality ?? "none";
  el.textContent = label;
}

const time = (d) =>
  d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");

/** Appends a timestamped line to the ICE-state timeline. */
export function logTimeline(who, text) {
  const li = document.createElement("li");
  const t = document.createElement("time");
  const now = new Date();
  t.dateTime = now.toISOString();
  t.textContent = time(now);
  li.append(t, ` ${who}: ${text}`);
  li.dataset.who = who;
  li.dataset.event = text;
  $("timeline").append(li);
  li.scrollIntoView({ block: "nearest" });
}

export function clearTimeline() {
  $("timeline").replaceChildren();
}

export function formatBytes(n) {
  if (n == null) return "—";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}
