// The side-by-side benchmark (bash bench/run.sh): ice-peer, simple-peer 9 with
// a fetch of the same endpoint, and a hand-written RTCPeerConnection baseline,
// in one headless Chromium, against one coturn and one ICE-servers endpoint.
// Prints one table with ratios. Not a pass/fail test: figures only.
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const TURN_PORT = Number(process.env.BENCH_TURN_PORT || 47678);
const TURN_SECRET = "bench-turn-secret"; // test-only
const CALLS = Number(process.env.BENCH_CALLS || 20);

const gz = (buffer) => gzipSync(buffer, { level: 9 }).length;
const minified = async (entry) =>
  (await build({ entryPoints: [entry], bundle: true, minify: true, format: "esm", write: false, logLevel: "error" })).outputFiles[0].contents;

// ---- sizes (what an app ships, gzipped) ----
async function sizes() {
  const wasm = readFileSync(path.join(root, "pkg/ice_peer_bg.wasm"));
  const glue = await minified(path.join(root, "pkg/ice_peer.js"));
  const simplePeer = readFileSync(path.join(here, "node_modules/simple-peer/simplepeer.min.js"));
  const query = await minified(path.join(here, "query-entry.js"));
  return {
    icePeer: gz(wasm) + gz(Buffer.from(glue)),
    simplePeer: gz(simplePeer),
    simplePeerAndQuery: gz(simplePeer) + gz(Buffer.from(query)),
    baseline: gz(Buffer.from(await minified(path.join(here, "baseline.js")))),
  };
}

// ---- the endpoint and the pages ----
function envelope() {
  const username = `${Math.floor(Date.now() / 1000) + 3600}:bench`;
  const credential = createHmac("sha1", TURN_SECRET).update(username).digest("base64");
  return JSON.stringify({ success: true, data: { ttl: 3600, iceServers: [
    { urls: [`turn:127.0.0.1:${TURN_PORT}?transport=udp`], username, credential },
  ] } });
}

const types = { ".js": "text/javascript", ".html": "text/html", ".wasm": "application/wasm" };
function serve() {
  const files = { "/": "bench/page.html", "/page.js": "bench/page.js", "/baseline.js": "bench/baseline.js",
    "/simplepeer.min.js": "bench/node_modules/simple-peer/simplepeer.min.js" };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname === "/api/calls/ice-servers") {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      return res.end(envelope());
    }
    const file = files[url.pathname] ?? (url.pathname.startsWith("/pkg/") && !url.pathname.includes("..") ? url.pathname.slice(1) : null);
    if (!file) return res.writeHead(404).end();
    try {
      const body = readFileSync(path.join(root, file));
      res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function startTurn() {
  const turn = spawn("turnserver", ["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
    `--listening-port=${TURN_PORT}`, "--min-port=49300", "--max-port=49999", "--use-auth-secret",
    `--static-auth-secret=${TURN_SECRET}`, "--realm=bench", "--allow-loopback-peers", "--no-cli",
    "--no-tls", "--no-dtls", "--fingerprint", "--log-file=stdout", "--simple-log"], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`coturn did not start:\n${out}`)), 10000);
    const seen = (chunk) => {
      out += chunk;
      if (out.includes("Total General servers")) {
        clearTimeout(timer);
        resolve(turn);
      }
    };
    turn.stdout.on("data", seen);
    turn.stderr.on("data", seen);
  });
}

// ---- the run ----
const turn = await startTurn();
const server = await serve();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection", "--js-flags=--expose-gc", "--enable-precise-memory-info"],
});
try {
  const size = await sizes();
  const page = await browser.newPage();
  page.on("console", (m) => m.type() === "error" && console.error(`[page] ${m.text()}`));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const results = await page.evaluate((calls) => window.runBench(calls), CALLS);
  print(size, results);
} finally {
  await browser.close();
  server.close();
  turn.kill("SIGKILL");
}

function print(size, r) {
  const stacks = ["icePeer", "simplePeer", "baseline"];
  const names = { icePeer: "ice-peer", simplePeer: "simple-peer 9 + fetch", baseline: "hand-written RTCPeerConnection" };
  const rows = [
    ["bundle, gzipped (KB)", { icePeer: size.icePeer, simplePeer: size.simplePeer, baseline: size.baseline }, (v) => (v / 1024).toFixed(1)],
    ["init: load + instantiate (ms)", r.init, (v) => v.toFixed(1)],
    [`createPeer → connected via TURN, median of ${r.calls} (ms)`, r.connectMedian, (v) => v.toFixed(0)],
    [`createPeer → connected via TURN, p90 (ms)`, r.connectP90, (v) => v.toFixed(0)],
    ["create + close a pair, no call (ms)", r.cycle, (v) => v.toFixed(2)],
    ["memory per open call: JS heap + wasm (KB)", r.memory, (v) => (v / 1024).toFixed(0)],
    ["getIceServers when cached (ms per call)", r.servers, (v) => v.toFixed(3)],
  ];
  const ratio = (a, b) => (a > 0 && b > 0 ? `${(a / b).toPrecision(2)}×` : "—");
  const header = ["", ...stacks.map((s) => names[s]), "ice-peer / simple-peer", "ice-peer / baseline"];
  const lines = rows.map(([label, v, f]) => [label, ...stacks.map((s) => f(v[s])), ratio(v.icePeer, v.simplePeer), ratio(v.icePeer, v.baseline)]);
  console.log(`| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|`);
  for (const line of lines) console.log(`| ${line.join(" | ")} |`);
  console.log(`\nsimple-peer 9 + @tanstack/query-core (what ice-peer replaces): ${(size.simplePeerAndQuery / 1024).toFixed(1)} KB gzipped`);
  console.log(`Chromium ${browser.version()}, ${new Date().toISOString().slice(0, 10)}; memory: performance.memory's JS heap after gc() plus ice-peer's wasm memory (${r.wasmMemory} B at the end), 20 calls open; the browser's own WebRTC memory is not visible to either`);
}
