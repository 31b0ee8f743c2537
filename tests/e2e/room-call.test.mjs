// End-to-end: the demo's room mode. Alice creates a room for Bob
// (POST /api/calls/rooms); the room's link signs Bob in as himself in
// another browser context, and both call each other through the backend's
// signaling WebSocket and its embedded TURN server. Mallory, signed in
// with a valid token of her own, is refused. A signaling socket cut in the
// middle of a renegotiation costs the call nothing: every signal arrives
// once, in order.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchBrowser, recordConsole, startServer } from "./harness.mjs";
import { byTestId, captureSecrets, recordSignals, waitForData, waitForText } from "./page-helpers.mjs";

describe("demo room call between two subjects", () => {
  let server, browser, room, link;
  const people = {};

  /** A page of its own (own context: storage, peers) at `path`, signed in. */
  async function openSignedIn(name, path) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 960 } });
    page.setDefaultTimeout(20_000);
    const person = { name, page, consoleLog: recordConsole(page), captured: captureSecrets(page), signals: await recordSignals(page) };
    await page.goto(path, { timeout: 20_000 });
    await page.waitForSelector(`${byTestId("sign-in")}:enabled`, { timeout: 20_000 });
    await page.click(byTestId("sign-in"));
    await waitForText(page, "signed-in-as", new RegExp(`^Signed in as ${name}\\.$`));
    return (people[name] = person);
  }

  const bytesReceived = (page) => page.textContent(byTestId("bytes-received"));
  async function waitForMoreBytes(page) {
    const before = await bytesReceived(page);
    await page.waitForFunction(
      ([sel, was]) => document.querySelector(sel)?.textContent !== was,
      [byTestId("bytes-received"), before],
      { timeout: 10_000, polling: 200 },
    );
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  test("alice creates a room for bob; its link invites bob by name and carries no token", async () => {
    const { page } = await openSignedIn("alice", `${server.url}/?as=alice`);
    await page.fill(byTestId("peer-sub"), "bob");
    await page.click(byTestId("create-room"));
    await waitForText(page, "status", /^Room created for you and bob/);
    room = await page.inputValue(byTestId("room"));
    assert.match(room, /^[A-Za-z0-9_-]{22,64}$/, "an unguessable, URL-safe room id");
    link = await page.getAttribute(byTestId("room-link"), "href");
    assert.equal(link, `${server.url}/?room=${room}&as=bob`);
    await openSignedIn("bob", link);
    assert.equal(await people.bob.page.inputValue(byTestId("room")), room);
  });

  test("both join and reach Good over a relay, each showing candidate type and RTT", async () => {
    const { alice, bob } = people;
    await alice.page.click(byTestId("join-room"));
    await waitForText(alice.page, "timeline", /room: joined; waiting for the other side/);
    await bob.page.click(byTestId("join-room"));
    await waitForText(bob.page, "timeline", /room: joined; alice is here, calling/);
    await waitForText(alice.page, "timeline", /room: bob joined/);
    for (const { page } of [alice, bob]) {
      await waitForData(page, "quality", "quality", "good", 30_000);
      assert.equal((await page.textContent(byTestId("quality"))).trim(), "Good");
      await waitForText(page, "candidate-type", /^relay$/, 15_000);
      await waitForText(page, "rtt", /^[\d.]+ ms$/, 15_000);
      await waitForText(page, "timeline", /me: (connected|completed)/);
      // Media really flows both ways: each side's video shows the other's frames.
      await page.waitForFunction(() => document.querySelector('[data-testid="remote-video"]').videoWidth > 0, null, { timeout: 15_000 });
    }
  });

  test("a third subject with a valid token is refused (forbidden) and the call goes on", async () => {
    const { page } = await openSignedIn("mallory", `${server.url}/?room=${room}&as=mallory`);
    await page.click(byTestId("join-room"));
    await waitForText(page, "status", /^Join room failed: .*\(forbidden\)$/, 10_000);
    await waitForData(page, "quality", "quality", "failed", 5_000);
    assert.equal(await page.getAttribute(byTestId("remote-video"), "src"), null);
    for (const { page } of [people.alice, people.bob]) {
      await waitForData(page, "quality", "quality", "good", 5_000);
      await waitForMoreBytes(page);
    }
    await page.close();
    delete people.mallory;
  });

  test("sockets lost during an ICE restart: the call recovers and every signal arrives once, in order", async () => {
    const { alice, bob } = people;
    const socketsBefore = [await alice.signals.sockets(), await bob.signals.sockets()];
    // Alice's socket dies silently (as on an address change): her restart's
    // offer and candidates go into it and are lost. Bob's is closed as soon
    // as that offer reaches him, while his answer is on its way.
    await alice.signals.silence();
    await alice.page.click(byTestId("restart-ice"));
    await bob.page.waitForFunction(() => window.__signals.received.filter(([, d]) => d.type === "offer").length >= 1,
      null, { timeout: 15_000, polling: 20 });
    await bob.signals.close();
    for (const { page } of [alice, bob]) {
      await waitForText(page, "timeline", /room: signaling resumed/, 10_000);
      await waitForData(page, "quality", "quality", "good", 30_000);
      await waitForMoreBytes(page);
    }
    assert.ok((await alice.signals.sockets()) > socketsBefore[0], "alice opened a new socket");
    assert.ok((await bob.signals.sockets()) > socketsBefore[1], "bob opened a new socket");
    // Late candidates may still be on their way: wait (bounded) until each side received all the other sent.
    for (const [from, to] of [[alice, bob], [bob, alice]]) {
      let sent, got;
      const deadline = Date.now() + 10_000;
      do {
        [sent, got] = [await from.signals.sentOnce(), await to.signals.receivedOnce()];
        if (JSON.stringify(sent) === JSON.stringify(got)) break;
        await new Promise((r) => setTimeout(r, 200)); // poll interval, not an assertion
      } while (Date.now() < deadline);
      assert.deepEqual(got, sent, `${to.name} received every signal ${from.name} sent, once, in order`);
    }
    const aliceSent = await alice.signals.sentOnce();
    assert.ok(aliceSent.some((d, i) => d.type === "offer" && i > 0), "alice (the answering side) sent a restart offer");
    assert.ok(await alice.signals.resent() + await bob.signals.resent() > 0, "some signal was sent again after a resume");
  });

  test("hanging up on one side ends the call on the other", async () => {
    const { alice, bob } = people;
    await bob.page.click(byTestId("hang-up"));
    await waitForData(bob.page, "quality", "quality", "failed", 5_000);
    await waitForText(alice.page, "status", /the other side left/, 10_000);
    await waitForData(alice.page, "quality", "quality", "failed", 5_000);
    assert.ok(await alice.page.isEnabled(byTestId("join-room")), "alice can join again");
  });

  test("neither the JWT nor any TURN credential reaches the DOM, the console or a URL", async () => {
    for (const { name, page, consoleLog, captured } of Object.values(people)) {
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
