// End-to-end: the demo's room mode. Two browser contexts (two "people") join
// the same room and call each other through the backend's signaling
// WebSocket and its embedded TURN server.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchBrowser, recordConsole, startServer } from "./harness.mjs";
import { byTestId, captureSecrets, waitForData, waitForText } from "./page-helpers.mjs";

describe("demo room call between two browser contexts", () => {
  let server, browser;
  const people = [];
  const room = `e2e-${Date.now().toString(36)}`;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    for (const name of ["alice", "bob"]) {
      // browser.newPage() gives each page its own context: separate storage, separate peers.
      const page = await browser.newPage({ viewport: { width: 1280, height: 960 } });
      page.setDefaultTimeout(20_000);
      people.push({ name, page, consoleLog: recordConsole(page), captured: captureSecrets(page) });
      await page.goto(`${server.url}/?room=${room}`, { timeout: 20_000 });
      await page.waitForSelector(`${byTestId("sign-in")}:enabled`, { timeout: 20_000 });
      await page.click(byTestId("sign-in"));
      await waitForText(page, "signed-in-as", /^Signed in as /);
    }
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  test("the room from the link is filled in, and the share link carries it", async () => {
    for (const { page } of people) {
      assert.equal(await page.inputValue(byTestId("room")), room);
      assert.match(await page.getAttribute(byTestId("room-link"), "href"), new RegExp(`\\?room=${room}$`));
    }
  });

  test("both join and reach Good over a relay, each showing candidate type and RTT", async () => {
    const [alice, bob] = people;
    await alice.page.click(byTestId("join-room"));
    await waitForText(alice.page, "timeline", /room: joined; waiting for the other side/);
    await bob.page.click(byTestId("join-room"));
    await waitForText(bob.page, "timeline", /room: joined; the other side is here, calling/);
    await waitForText(alice.page, "timeline", /room: the other side joined/);
    for (const { page } of people) {
      await waitForData(page, "quality", "quality", "good", 30_000);
      assert.equal((await page.textContent(byTestId("quality"))).trim(), "Good");
      await waitForText(page, "candidate-type", /^relay$/, 15_000);
      await waitForText(page, "rtt", /^[\d.]+ ms$/, 15_000);
      await waitForText(page, "timeline", /me: (connected|completed)/);
      // Media really flows both ways: each side's video shows the other's frames.
      await page.waitForFunction(() => document.querySelector('[data-testid="remote-video"]').videoWidth > 0, null, { timeout: 15_000 });
    }
  });

  test("hanging up on one side ends the call on the other", async () => {
    const [alice, bob] = people;
    await bob.page.click(byTestId("hang-up"));
    await waitForData(bob.page, "quality", "quality", "failed", 5_000);
    await waitForText(alice.page, "status", /the other side left/, 10_000);
    await waitForData(alice.page, "quality", "quality", "failed", 5_000);
    assert.ok(await alice.page.isEnabled(byTestId("join-room")), "alice can join again");
  });

  test("neither the JWT nor any TURN credential reaches the DOM, the console or a URL", async () => {
    for (const { name, page, consoleLog, captured } of people) {
      await captured.settle();
      await consoleLog.settle();
      const secrets = [...captured.secrets].filter((s) => s.length >= 6);
      assert.ok(secrets.length >= 2, `${name}: captured the token and a TURN credential (got ${secrets.length})`);
      const html = await page.content();
      const consoleText = consoleLog.messages.map((m) => `${m.text}\n${m.json}`).join("\n");
      for (const secret of secrets) {
        const hint = `${secret.slice(0, 3)}…(${secret.length} chars)`;
        assert.ok(!html.includes(secret), `${name}: secret ${hint} in the DOM`);
        assert.ok(!consoleText.includes(secret), `${name}: secret ${hint} in the console`);
        assert.ok(!page.url().includes(secret), `${name}: secret ${hint} in the page URL`);
      }
      const errors = consoleLog.messages.filter((m) => m.type === "error" || m.type === "pageerror");
      assert.deepEqual(errors, [], `${name}: no console errors`);
    }
  });
});
