// Shared by the e2e tests: starts the backend on free ports, launches Debian's
// chromium through playwright-core, and tears both down.
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import { existsSync, mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const artifactsDir = path.join(repoRoot, "tests/artifacts");

export const serverBin =
  process.env.ICE_PEER_SERVER_BIN ??
  path.resolve(repoRoot, process.env.CARGO_TARGET_DIR ?? "target", "release/ice-peer-server");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Rejects after `ms` with a message naming what was awaited. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A port that was free a moment ago (the OS picks it). */
export function freePort(host = "127.0.0.1") {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url, ms, child) {
  const deadline = Date.now() + ms;
  let lastError;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited early with code ${child.exitCode}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
      lastError = new Error(`HTTP ${res.status}`);
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 200)); // poll interval, not an assertion
  }
  throw new Error(`${url} not ready after ${ms} ms: ${lastError?.message}`);
}

/**
 * A port that was free a moment ago for both UDP and TCP, as the embedded
 * TURN server needs (it listens on both with one number), and not `avoid`
 * (the HTTP port: TCP and UDP numbers are separate, so the OS may hand out
 * the same one for each). The UDP port is held while TCP is tried on it.
 */
export async function freeTurnPort(avoid, host = "127.0.0.1") {
  for (let attempt = 0; attempt < 20; attempt++) {
    const sock = dgram.createSocket("udp4");
    const port = await new Promise((resolve, reject) => {
      sock.once("error", reject);
      sock.bind(0, host, () => resolve(sock.address().port));
    });
    const tcpFree = port !== avoid && (await new Promise((resolve) => {
      const srv = net.createServer();
      srv.once("error", () => resolve(false));
      srv.listen(port, host, () => srv.close(() => resolve(true)));
    }));
    await new Promise((resolve) => sock.close(resolve));
    if (tcpFree) return port;
  }
  throw new Error("no port free for both UDP and TCP after 20 tries");
}

/**
 * Starts `ice-peer-server --dev` on a free HTTP port and a free TURN port.
 * Returns `{ url, log(), stop() }`; `log()` is its output so far, for failure messages.
 */
export async function startServer(extraArgs = []) {
  if (!existsSync(serverBin)) {
    throw new Error(`server binary missing: ${serverBin} (build it, or set ICE_PEER_SERVER_BIN)`);
  }
  const port = await freePort();
  const turnPort = await freeTurnPort(port);
  // Every setting explicit, so ICE_PEER_* / TURN_* / TWILIO_* in the environment cannot change the test.
  const args = [
    "--dev",
    "--provider", "embedded",
    "--listen", `127.0.0.1:${port}`,
    "--turn-listen", `127.0.0.1:${turnPort}`,
    "--www-dir", path.join(repoRoot, "www"),
    "--pkg-dir", path.join(repoRoot, "pkg"),
    ...extraArgs,
  ];
  // --dev refuses a JWT secret given to it (it makes its own), so one in the environment must not reach it.
  const env = { ...process.env };
  delete env.JWT_SECRET;
  const child = spawn(serverBin, args, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  const output = keepOutput(child);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/`, 30_000, child);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${err.message}\n--- server output ---\n${output()}`);
  }
  return { url, port, turnPort, log: output, stop: () => stopProcess(child) };
}

/** Keeps the last 20,000 characters a child process printed; returns a reader, for failure messages. */
export function keepOutput(child) {
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  return () => output;
}

/** SIGTERM, then SIGKILL if the process is still there after 5 s. */
export async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await withTimeout(exited, 5000, "process exit").catch(() => child.kill("SIGKILL"));
}

/** Chromium with fake media and loopback WebRTC allowed (two peers in one page). */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    timeout: 30_000,
    args: [
      "--no-sandbox", // we run as root in CI
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-gpu",
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      "--allow-loopback-in-peer-connection",
      "--disable-features=WebRtcHideLocalIpsWithMdns",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
}

/**
 * Records every console message and page error of `page`, for the "no
 * console errors" and "no secrets in the console" checks. `text` is what
 * Playwright prints ("[Object, Object]" for objects), so each message's
 * arguments are also serialised to `json` (call `settle()` before reading it).
 */
export function recordConsole(page) {
  const messages = [];
  const pending = [];
  page.on("console", (msg) => {
    const entry = { type: msg.type(), text: msg.text(), json: "" };
    messages.push(entry);
    const args = Promise.all(msg.args().map((a) => a.jsonValue().catch(() => String(a))));
    pending.push(
      withTimeout(args, 5_000, "console arguments")
        .then((values) => (entry.json = JSON.stringify(values)))
        .catch(() => {}),
    );
  });
  page.on("pageerror", (err) => messages.push({ type: "pageerror", text: String(err?.stack ?? err), json: "" }));
  return { messages, settle: () => Promise.all(pending) };
}

export function ensureArtifactsDir() {
  mkdirSync(artifactsDir, { recursive: true });
  return artifactsDir;
}
