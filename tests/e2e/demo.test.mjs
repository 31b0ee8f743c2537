// End-to-end test of the demo page (www/) served by the real backend.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ensureArtifactsDir, launchBrowser, recordConsole, repoRoot, startServer } from "./harness.mjs";
import { byTestId, captureSecrets, waitForData, waitForText } from "./page-helpers.mjs";

describe("demo page", () => {
  let server, browser, page, consoleLog, captured;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 960 } });
    page.setDefaultTimeout(20_000);
    consoleLog = recordConsole(page);
    if (process.env.E2E_VERBOSE) page.on("console", (m) => console.log(`[browser ${m.type()}] ${m.text()}`));
    captured = captureSecrets(page);
    // ?debug: the library logs what it uses, so the console check below covers its redaction too.
    await page.goto(`${server.url}/?debug`, { timeout: 20_000 });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  test("signs in and shows the fetched ICE servers", async () => {
    await page.waitForSelector(`${byTestId("sign-in")}:enabled`, { timeout: 20_000 });
    await page.click(byTestId("sign-in"));
    await waitForText(page, "signed-in-as", /^Signed in as alice\.$/);
    await waitForData(page, "ice-source", "source", "network");
    await waitForText(page, "ice-servers", /turns?:/);
    await waitForText(page, "ice-expiry", /\d\d:\d\d/);
    assert.match(await page.textContent(byTestId("ice-servers")), /•••/, "credentials are masked");
  });

  test("a call with relay forced reaches Good over a relay candidate", async () => {
    assert.ok(await page.isChecked(byTestId("force-relay")), "relay is forced by default");
    await page.click(byTestId("start-call"));
    await waitForData(page, "quality", "quality", "good", 30_000);
    assert.equal((await page.textContent(byTestId("quality"))).trim(), "Good");
    await waitForText(page, "candidate-type", /^relay$/, 15_000);
    await waitForText(page, "rtt", /^[\d.]+ ms$/, 15_000);
    await waitForText(page, "network-quality", /^(excellent|good)$/, 15_000);
    // Media really flows: the callee's video has frames.
    await page.waitForFunction(() => document.querySelector('[data-testid="remote-video"]').videoWidth > 0, null, { timeout: 15_000 });
    await waitForText(page, "timeline", /caller: (connected|completed)/);
    await saveScreenshot(page);
  });

  test("restart ICE keeps the call Good and media flowing", async () => {
    await page.click(byTestId("restart-ice"));
    await waitForText(page, "timeline", /ICE restart requested/);
    const before = await page.textContent(byTestId("bytes-received"));
    await waitForText(page, "bytes-received", new RegExp(`^(?!${before.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$)`), 10_000);
    await waitForData(page, "quality", "quality", "good", 30_000);
    await waitForText(page, "candidate-type", /^relay$/, 15_000);
  });

  test("hang up shows Failed", async () => {
    await page.click(byTestId("hang-up"));
    await waitForData(page, "quality", "quality", "failed", 5_000);
    assert.equal((await page.textContent(byTestId("quality"))).trim(), "Failed");
    assert.ok(await page.isEnabled(byTestId("start-call")), "a new call can be started");
  });

  test("with the endpoint down, a new call uses the fallback servers", async () => {
    await page.click(byTestId("outage"));
    await page.waitForSelector(`${byTestId("outage")}[aria-pressed="true"]`, { timeout: 5_000 });
    // The fallback (public STUN) cannot relay, so allow host candidates for this call.
    await page.uncheck(byTestId("force-relay"));
    await page.click(byTestId("start-call"));
    await waitForData(page, "ice-source", "source", "fallback", 20_000);
    await waitForText(page, "ice-servers", /stun:/);
    await waitForData(page, "quality", "quality", "good", 30_000);
    await page.click(byTestId("hang-up"));
    await waitForData(page, "quality", "quality", "failed", 5_000);
    await page.click(byTestId("outage"));
    await page.waitForSelector(`${byTestId("outage")}[aria-pressed="false"]`, { timeout: 5_000 });
  });

  test("a room for yourself is refused, with the server's reason on the status line", async () => {
    await page.fill(byTestId("peer-sub"), "alice");
    await page.click(byTestId("create-room"));
    await waitForText(page, "status", /^Create room failed: \/api\/calls\/rooms answered HTTP 400: \S/, 10_000);
    assert.equal(await page.inputValue(byTestId("room")), "", "no room filled in");
    assert.ok(await page.isDisabled(byTestId("join-room")), "nothing to join");
    await page.fill(byTestId("peer-sub"), "bob");
  });

  test("no console errors during the run", () => {
    // The simulated outage makes the browser log the endpoint's 503s, and the
    // refused room its 400; those are expected.
    const errors = consoleLog.messages.filter(
      (m) => (m.type === "error" || m.type === "pageerror") && !/status of (503|400)/.test(m.text),
    );
    assert.deepEqual(errors, []);
  });

  test("neither the JWT nor any TURN credential reaches the DOM or the console", async () => {
    await captured.settle();
    await consoleLog.settle();
    // Kept for debugging; tests/artifacts/ is gitignored.
    writeFileSync(path.join(ensureArtifactsDir(), "demo-console.json"), JSON.stringify(consoleLog.messages, null, 1));
    const long = (set) => [...set].filter((s) => s.length >= 6); // too short to search for meaningfully
    const secrets = long(captured.secrets);
    assert.ok(secrets.length >= 2, `captured the token and a TURN credential (got ${secrets.length})`);
    const text = await page.evaluate(() => document.body.innerText);
    const html = await page.content();
    // Both the printed text and the serialised arguments (objects print as "Object").
    const consoleText = consoleLog.messages.map((m) => `${m.text}\n${m.json}`).join("\n");
    const hint = (s) => `${s.slice(0, 3)}…(${s.length} chars)`;
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `secret ${hint(secret)} in innerText`);
      assert.ok(!html.includes(secret), `secret ${hint(secret)} in the DOM`);
      assert.ok(!consoleText.includes(secret), `secret ${hint(secret)} in the console`);
    }
    // The page masks TURN usernames too (the library's debug log may show them; they are not credentials).
    for (const name of long(captured.usernames)) {
      assert.ok(!html.includes(name), `TURN username ${hint(name)} in the DOM`);
    }
  });
});

async function saveScreenshot(page) {
  await page.screenshot({ path: path.join(ensureArtifactsDir(), "demo.png"), fullPage: true });
  // The README's screenshot is only rewritten on request, so test runs leave the tree clean.
  if (process.env.UPDATE_SCREENSHOT === "1") {
    await page.screenshot({ path: path.join(repoRoot, "www/screenshot.png"), fullPage: true });
  }
}
