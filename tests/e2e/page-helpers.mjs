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
