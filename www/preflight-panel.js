// "Test my network": manager.preflight() and its report as a table (URL,
// kind, transport, result, time). Text only; the report never holds a credential, and only its
// URLs and figures reach the DOM.
import { $, setText } from "./ui.js";

const VERDICTS = {
  direct: "Direct calls may work (a server-reflexive address was found).",
  relay: "Calls need the relay",
  blocked: "Blocked: no server answered, calls will fail on this network.",
};

/** Wires the button; `manager()` is the signed-in PeerManager or null. */
export function setUpPreflight(manager) {
  const button = $("preflight");
  const update = () => (button.disabled = !manager() || button.dataset.running === "true");
  button.addEventListener("click", async () => {
    const current = manager();
    if (!current) return;
    button.dataset.running = "true";
    update();
    setText("preflight-verdict", "Testing…");
    $("preflight-verdict").dataset.verdict = "";
    try {
      renderReport(await current.preflight());
    } catch (err) {
      setText("preflight-verdict", `Could not test: ${err?.kind ?? err?.message ?? err}`);
    } finally {
      button.dataset.running = "false";
      update();
    }
  });
  update();
  return update;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.append(td);
  return td;
}

/** The report: one row per URL tested, then the verdict. */
export function renderReport(report) {
  const rows = $("preflight-checks");
  rows.replaceChildren();
  for (const check of report.checks) {
    const row = document.createElement("tr");
    row.dataset.ok = String(check.ok);
    const url = document.createElement("code");
    url.textContent = check.url;
    cell(row, "").append(url);
    cell(row, check.kind);
    cell(row, check.transport);
    const why = [check.errorCode, check.errorText].filter((x) => x != null).join(" ");
    cell(row, check.ok ? "ok" : `failed${why ? `: ${why}` : ""}`);
    cell(row, check.ms == null ? "—" : `${check.ms} ms`);
    rows.append(row);
  }
  const relays = report.relayTransports.length ? ` (over ${report.relayTransports.join(", ")})` : "";
  const text = report.verdict === "relay" ? `${VERDICTS.relay}${relays}.` : VERDICTS[report.verdict];
  setText("preflight-verdict", `${text} ${report.checks.length} checks in ${report.durationMs} ms.`);
  $("preflight-verdict").dataset.verdict = report.verdict;
}
