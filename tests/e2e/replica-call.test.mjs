// End-to-end: a room call across two backend replicas that share one real
// redis-server (--redis-url). Alice's page is served by replica 1's front and
// talks only to replica 1 (ICE servers, room, signaling socket, TURN); Bob's
// page only to replica 2. Without Redis the room Alice creates on replica 1
// does not exist on replica 2, so Bob could never join her.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchBrowser, recordConsole } from "./harness.mjs";
import { byTestId, hangUpAndSeeItEnd, waitForData, waitForText } from "./page-helpers.mjs";
import { newSecret, startFront, startRedis, startReplica } from "./replicas.mjs";

describe("room call across two replicas sharing Redis", () => {
  let redis, browser;
  const replicas = [];
  const fronts = [];
  const people = {};

  before(async () => {
    redis = await startRedis();
    const secret = newSecret();
    for (let i = 0; i < 2; i++) {
      let host = null;
      const front = await startFront(secret, () => host);
      fronts.push(front);
      const replica = await startReplica(secret, ["--redis-url", redis.url, "--cors-origin", front.url]);
      replicas.push(replica);
      host = replica.host;
    }
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    for (const front of fronts) await front.stop();
    for (const replica of replicas) await replica.stop();
    await redis?.stop();
  });

  /** A page of its own at `url` (a front's), signed in as `name`. */
  async function openSignedIn(name, url) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 960 } });
    page.setDefaultTimeout(20_000);
    const person = { name, page, consoleLog: recordConsole(page) };
    await page.goto(url, { timeout: 20_000 });
    await page.waitForSelector(`${byTestId("sign-in")}:enabled`, { timeout: 20_000 });
    await page.click(byTestId("sign-in"));
    await waitForText(page, "signed-in-as", new RegExp(`^Signed in as ${name}\\.$`));
    return (people[name] = person);
  }

  /** Replica logs, for a failure message that says what the servers saw. */
  const replicaLogs = () => replicas.map((r, i) => `--- replica ${i + 1} ---\n${r.log()}`).join("\n");

  test("alice on replica 1 creates a room for bob; bob on replica 2 joins it; both reach Good with media", async () => {
    const alice = await openSignedIn("alice", `${fronts[0].url}/?as=alice`);
    await alice.page.fill(byTestId("peer-sub"), "bob");
    await alice.page.click(byTestId("create-room"));
    await waitForText(alice.page, "status", /^Room created for you and bob/);
    const room = await alice.page.inputValue(byTestId("room"));
    assert.match(room, /^[A-Za-z0-9_-]{22,64}$/);
    const bob = await openSignedIn("bob", `${fronts[1].url}/?room=${room}&as=bob`);
    assert.equal(await bob.page.inputValue(byTestId("room")), room);

    await alice.page.click(byTestId("join-room"));
    await waitForText(alice.page, "timeline", /room: joined; waiting for the other side/);
    await bob.page.click(byTestId("join-room"));
    try {
      await waitForText(bob.page, "timeline", /room: joined; alice is here, calling/, 10_000);
      await waitForText(alice.page, "timeline", /room: bob joined/, 10_000);
    } catch (err) {
      throw new Error(`${err.message}\n${replicaLogs()}`, { cause: err });
    }
    for (const { page } of [alice, bob]) {
      await waitForData(page, "quality", "quality", "good", 30_000);
      await waitForText(page, "candidate-type", /^relay$/, 15_000);
      await waitForText(page, "rtt", /^[\d.]+ ms$/, 15_000);
      // Media really flows both ways: each side's video shows the other's frames.
      await page.waitForFunction(() => document.querySelector('[data-testid="remote-video"]').videoWidth > 0, null, { timeout: 15_000 });
    }
    // Each page went to its own replica only: both fronts passed ICE servers
    // and a signaling socket through, and only Alice's created the room.
    for (const [i, front] of fronts.entries()) {
      assert.ok(front.forwarded.iceServers >= 1, `front ${i + 1} passed an ICE servers request`);
      assert.ok(front.forwarded.signalUpgrades >= 1, `front ${i + 1} passed a signaling socket`);
    }
    assert.deepEqual(fronts.map((f) => f.forwarded.rooms), [1, 0], "the room was created on replica 1 only");
  });

  test("bob hangs up on replica 2; alice on replica 1 learns the other side left", async () => {
    const { alice, bob } = people;
    await hangUpAndSeeItEnd(bob.page, alice.page);
  });

  test("no console errors on either page", async () => {
    for (const { name, consoleLog } of Object.values(people)) {
      await consoleLog.settle();
      const errors = consoleLog.messages.filter((m) => m.type === "error" || m.type === "pageerror");
      assert.deepEqual(errors, [], `${name}: no console errors`);
    }
  });
});
