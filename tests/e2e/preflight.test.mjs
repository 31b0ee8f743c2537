// End-to-end: "Test my network" on the demo page and the verdict the
// messenger example shows before a call, against the real backend and its
// embedded TURN server (loopback: no NAT, so STUN answers with the host's
// own address and the verdict is "direct").
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchBrowser, recordConsole, startServer } from "./harness.mjs";
import { byTestId, captureSecrets, waitForData, waitForText } from "./page-helpers.mjs";

describe("demo page: Test my network", () => {
  let server, browser, page, consoleLog, captured;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    consoleLog = recordConsole(page);
    captured = captureSecrets(page);
    await page.goto(server.url, { timeout: 20_000 });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  test("the button tests every server and shows a table and the verdict", async () => {
    await page.waitForSelector(`${byTestId("sign-in")}:enabled`);
    assert.ok(await page.isDisabled(byTestId("preflight")), "disabled before sign-in");
    await page.click(byTestId("sign-in"));
    await page.waitForSelector(`${byTestId("preflight")}:enabled`);
    await page.click(byTestId("preflight"));
    await waitForData(page, "preflight-verdict", "verdict", "direct", 15_000);
    const rows = await page.$$eval(`${byTestId("preflight-checks")} tr`, (trs) =>
      trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    assert.ok(rows.length >= 2, `a row per URL: ${JSON.stringify(rows)}`);
    for (const [url, kind, transport, result, time] of rows) {
      assert.match(url, /^(stun|turns?):/);
      assert.ok(["stun", "turn"].includes(kind) && ["udp", "tcp", "tls"].includes(transport), `${kind}/${transport}`);
      assert.equal(result, "ok", `${url}: ${result}`);
      assert.match(time, /^\d+ ms$/);
    }
    assert.ok(rows.some(([, kind]) => kind === "turn"), "the TURN server was tested too");
    console.log(`FIGURE demo preflight: ${rows.map((r) => `${r[1]}/${r[2]} ${r[4]}`).join(", ")}`);
  });

  test("a call shows send and receive apart", async () => {
    await page.click(byTestId("start-call"));
    await waitForData(page, "quality", "quality", "good", 30_000);
    // The caller sends the animation; the callee of this self-call sends nothing back.
    const send = await waitForText(page, "network-send", /^MOS [\d.]+, \d+ % lost, \d+ ms jitter$/, 20_000);
    assert.equal((await page.textContent(byTestId("network-receive"))).trim(), "—");
    console.log(`FIGURE demo network, what the caller sends: ${send}`);
    await page.click(byTestId("hang-up"));
    await waitForText(page, "network-send", /^—$/);
  });

  test("no credential reaches the DOM, and no console error", async () => {
    await captured.settle();
    const html = await page.content();
    const secrets = [...captured.secrets].filter((s) => s.length >= 6);
    assert.ok(secrets.length >= 2, "captured the token and a TURN credential");
    for (const secret of secrets) assert.ok(!html.includes(secret), "a secret in the DOM");
    const errors = consoleLog.messages.filter((m) => m.type === "error" || m.type === "pageerror");
    assert.deepEqual(errors, []);
  });
});
