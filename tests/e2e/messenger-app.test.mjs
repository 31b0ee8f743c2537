// End-to-end test of the npm consumer example: its built dist/ served by
// `vite preview`, which proxies /api to the real backend.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { freePort, launchBrowser, recordConsole, repoRoot, startServer, withTimeout } from "./harness.mjs";
import { byTestId, waitForData, waitForText } from "./page-helpers.mjs";

const appDir = path.join(repoRoot, "examples/messenger-app");

async function startPreview(backendUrl) {
  if (!existsSync(path.join(appDir, "dist/index.html"))) {
    throw new Error("examples/messenger-app/dist is missing: run `npm run build` there (tests/e2e/run.sh does)");
  }
  const port = await freePort();
  const vite = path.join(appDir, "node_modules/vite/bin/vite.js");
  const child = spawn(process.execPath, [vite, "preview", "--host", "127.0.0.1", "--port", String(port), "--strictPort"], {
    cwd: appDir,
    // CI=true turns Vite's colours on, and it prints the port in bold: ask for plain text.
    env: { ...process.env, ICE_PEER_BACKEND: backendUrl, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  const url = `http://127.0.0.1:${port}`;
  const ready = new Promise((resolve, reject) => {
    const plain = () => output.replace(/\x1b\[[0-9;]*m/g, "");
    child.stdout.on("data", () => plain().includes(`:${port}`) && resolve());
    child.once("exit", (code) => reject(new Error(`vite preview exited (${code}):\n${output}`)));
  });
  try {
    await withTimeout(ready, 20_000, `vite preview on ${url}`);
  } catch (error) {
    child.kill("SIGKILL"); // or the test process waits on it until its own timeout
    throw new Error(`${error.message}\n${output}`);
  }
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await withTimeout(exited, 5000, "vite preview exit").catch(() => child.kill("SIGKILL"));
  };
  return { url, stop };
}

describe("messenger-app example (npm consumer)", () => {
  let server, preview, browser, page, consoleLog;

  before(async () => {
    server = await startServer();
    preview = await startPreview(server.url);
    browser = await launchBrowser();
    page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    consoleLog = recordConsole(page);
    await page.goto(preview.url, { timeout: 20_000 });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await preview?.stop();
    await server?.stop();
  });

  test("vite build emitted the wasm as its own file", () => {
    const assets = readdirSync(path.join(appDir, "dist/assets"));
    assert.ok(assets.some((f) => f.endsWith(".wasm")), `no .wasm in dist/assets: ${assets.join(", ")}`);
  });

  test("the wasm loads under Vite and the app fetches ICE servers after sign-in", async () => {
    await page.click(byTestId("sign-in"));
    await waitForText(page, "user", /Signed in as alice/);
    await waitForText(page, "ice-status", /call server\(s\) ready \(network\)/);
  });

  test("before a call, the app shows what the network check found", async () => {
    await waitForData(page, "network-check", "verdict", "direct", 15_000);
    await waitForText(page, "network-check", /direct calls/);
  });

  test("a call reaches quality good, and Failed after hang-up", async () => {
    await page.click(byTestId("call"));
    await waitForData(page, "quality", "quality", "good", 30_000);
    assert.equal((await page.textContent(byTestId("quality"))).trim(), "Good");
    // The graded network quality beside it, measured from live stats.
    await waitForText(page, "network-quality", /^network (excellent|good)$/, 15_000);
    await page.waitForFunction(() => document.querySelector('[data-testid="remote-video"]')?.videoWidth > 0, null, { timeout: 15_000 });
    await page.click(byTestId("hang-up"));
    // Read through useSyncExternalStore from the closed peer's own `quality`.
    await waitForData(page, "quality", "quality", "failed", 5_000);
  });

  test("no console errors", () => {
    const errors = consoleLog.messages.filter((m) => m.type === "error" || m.type === "pageerror");
    assert.deepEqual(errors, []);
  });
});
