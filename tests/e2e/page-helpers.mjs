// Page-level helpers: bounded waits on data-testid elements and secret capture.

export const byTestId = (id) => `[data-testid="${id}"]`;

/** Waits (bounded) until the element's text matches `pattern`; returns the text. */
export async function waitForText(page, testId, pattern, timeout = 20_000) {
  try {
    await page.waitForFunction(
      ([sel, src, flags]) => new RegExp(src, flags).test(document.querySelector(sel)?.textContent ?? ""),
      [byTestId(testId), pattern.source, pattern.flags],
      { timeout, polling: 100 },
    );
  } catch (err) {
    const actual = await page.textContent(byTestId(testId)).catch(() => "(missing)");
    const status = await page.textContent(byTestId("status")).catch(() => "");
    throw new Error(`${testId} never matched ${pattern} within ${timeout} ms; it is "${actual}"; status: "${status}"`, { cause: err });
  }
  return page.textContent(byTestId(testId));
}

/** Waits (bounded) until the element's data-* attribute equals `value`. */
export async function waitForData(page, testId, attr, value, timeout = 20_000) {
  const sel = `${byTestId(testId)}[data-${attr}="${value}"]`;
  try {
    await page.waitForSelector(sel, { timeout, state: "attached" });
  } catch (err) {
    const actual = await page.getAttribute(byTestId(testId), `data-${attr}`).catch(() => "(missing)");
    const status = await page.textContent(byTestId("status")).catch(() => "");
    throw new Error(`${testId} data-${attr} never became "${value}" within ${timeout} ms; it is "${actual}"; status: "${status}"`, { cause: err });
  }
}

/**
 * Collects every secret the page handles, straight from the network: the
 * Bearer token of each request and the TURN usernames/credentials of every
 * ice-servers response. `secrets` holds tokens and credentials, `usernames`
 * the TURN usernames. `settle()` waits for pending response bodies.
 */
export function captureSecrets(page) {
  const secrets = new Set();
  const usernames = new Set();
  const pending = [];
  page.on("request", (req) => {
    const auth = req.headers()["authorization"];
    if (auth?.startsWith("Bearer ")) secrets.add(auth.slice(7));
  });
  page.on("response", (res) => {
    const url = res.url();
    const isToken = url.includes("/api/dev/token");
    if (!isToken && !url.includes("/api/calls/ice-servers")) return;
    // Bounded: the body of a response whose request the page aborted never arrives.
    const body = Promise.race([res.json(), new Promise((_, reject) => setTimeout(reject, 5_000, new Error("no body")))]);
    pending.push(
      body.then((body) => {
        if (isToken && body?.token) secrets.add(body.token);
        for (const s of body?.data?.iceServers ?? body?.data?.ice_servers ?? []) {
          if (s.username) usernames.add(String(s.username));
          if (s.credential) secrets.add(String(s.credential));
        }
      }, () => {}), // a 503 during the simulated outage has no JSON worth reading
    );
  });
  return { secrets, usernames, settle: () => Promise.all(pending) };
}

/**
 * Records, from before the page's scripts run, every WebSocket the page opens
 * and every `signal` it sends or receives on them (`[seq, data]`). Returns
 * readers, `close()`, which closes the page's newest socket, and `silence()`,
 * which makes it a dead one that says nothing (a changed address): what the
 * page sends is lost, nothing arrives, no close event. Signals only: the auth
 * message is never kept.
 */
export async function recordSignals(page) {
  await page.addInitScript(() => {
    const log = (window.__signals = { sockets: [], sent: [], received: [] });
    const signalOf = (text) => {
      try {
        const message = JSON.parse(text);
        return message.type === "signal" ? [message.seq, message.data] : null;
      } catch {
        return null;
      }
    };
    window.WebSocket = class extends window.WebSocket {
      constructor(...args) {
        super(...args);
        log.sockets.push(this);
        // Added before the page's own listener, so a dead socket's messages can be swallowed.
        this.addEventListener("message", (e) => {
          if (this.dead) return e.stopImmediatePropagation();
          const signal = signalOf(e.data);
          if (signal) log.received.push(signal);
        });
      }
      send(text) {
        const signal = signalOf(text);
        if (signal) log.sent.push(signal);
        if (!this.dead) super.send(text);
      }
    };
  });
  // The data of each seq's first appearance, in the order they appeared.
  const firstOfEachSeq = (list) => page.evaluate((which) => {
    const seen = new Set();
    return window.__signals[which].filter(([seq]) => !seen.has(seq) && seen.add(seq)).map(([, data]) => data);
  }, list);
  return {
    sockets: () => page.evaluate(() => window.__signals.sockets.length),
    close: () => page.evaluate(() => window.__signals.sockets.at(-1)?.close()),
    silence: () => page.evaluate(() => {
      const socket = window.__signals.sockets.at(-1);
      if (socket) socket.dead = true;
    }),
    sentOnce: () => firstOfEachSeq("sent"),
    receivedOnce: () => firstOfEachSeq("received"),
    /** How many signals went out more than once (sent again after a resume). */
    resent: () => page.evaluate(() => {
      const seqs = window.__signals.sent.map(([seq]) => seq);
      return seqs.length - new Set(seqs).size;
    }),
  };
}
