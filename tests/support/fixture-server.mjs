// Fixture server for the browser test suites (tests/web_*.rs). Node, no deps.
//
//   node tests/support/fixture-server.mjs
//
// Listens on 127.0.0.1:${ICE_PEER_FIXTURE_PORT || 47801}, CORS for any origin.
//   POST /script/<name>   body: JSON array of steps, consumed one per GET /ice/<name>
//                         (the last step repeats). A step:
//                           { status = 200, body, json = true, delayMs = 0, hang = false,
//                             turn: { ttl, envelopeTtl } }
//                         `json: false` sends `body` as raw text; `hang: true` never answers;
//                         `turn` answers the envelope with generated TURN-REST credentials
//                         (see /turn) whose username expires after `ttl` seconds (negative:
//                         already expired); the envelope's own `ttl` is `envelopeTtl`
//                         (default: ttl when > 0, else 86400, i.e. a server that is wrong).
//   GET  /ice/<name>      answers the next step (unscripted: 404).
//   GET  /log/<name>      [{ method, url, headers }] of every request to /ice|/turn/<name>.
//   POST /reset/<name>    forgets the script and the log of <name>.
//   GET  /turn/<name>?ttl=<secs>   contract envelope with stun: and turn: entries for coturn.
//   POST /turn/stop, POST /turn/start   stop / start the coturn this server spawned.
//   GET  /silent-port     { port }: a UDP port on 127.0.0.1 that takes everything and
//                         never answers (a STUN/TURN server that is unreachable).
//   POST /figure          body: one line of text, printed as "FIGURE <line>" on stdout.
//   GET  /health          "ok".
// Exits when stdin closes or on SIGTERM/SIGINT, killing coturn.

import http from "node:http";
import net from "node:net";
import dgram from "node:dgram";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";

const PORT = Number(process.env.ICE_PEER_FIXTURE_PORT || 47801);
const TURN_PORT = Number(process.env.ICE_PEER_TURN_PORT || 47478);
// Test-only constant: never a real secret.
const TURN_SECRET = "ice-peer-test-secret";
const TURN_BIN = process.env.ICE_PEER_TURNSERVER || "/usr/bin/turnserver";

const scripts = new Map(); // name -> { steps, next }
const logs = new Map(); // name -> [request]

function log(name, req) {
  if (!logs.has(name)) logs.set(name, []);
  logs.get(name).push({ method: req.method, url: req.url, headers: req.headers });
}

function turnEnvelope(ttl, envelopeTtl) {
  const expiry = Math.floor(Date.now() / 1000) + ttl;
  const username = `${expiry}:test-user`;
  const credential = createHmac("sha1", TURN_SECRET).update(username).digest("base64");
  return {
    success: true,
    data: {
      iceServers: [
        { urls: `stun:127.0.0.1:${TURN_PORT}` },
        { urls: `turn:127.0.0.1:${TURN_PORT}?transport=udp`, username, credential },
      ],
      ttl: envelopeTtl ?? (ttl > 0 ? ttl : 86400),
    },
  };
}

// ---- coturn ----
let turn = null;

function waitForPort(port, ms) {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => { socket.destroy(); resolve(); });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`turnserver not listening on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

// One per port, so that fixture servers of runs side by side never kill each other's coturn.
const TURN_PIDFILE = `/tmp/ice-peer-fixture-turnserver-${TURN_PORT}.pid`;

/** True when something accepts TCP connections on the port. */
function portAnswers(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => { socket.destroy(); resolve(true); });
    socket.once("error", () => { socket.destroy(); resolve(false); });
  });
}

/** A coturn left by an earlier run that died would answer in place of ours. */
async function clearStaleTurn() {
  try {
    process.kill(Number(readFileSync(TURN_PIDFILE, "utf8").trim()), "SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
  } catch {
    // no pidfile or no such process: nothing to clear
  }
  if (await portAnswers(TURN_PORT)) {
    throw new Error(`port ${TURN_PORT} is taken by another process; set ICE_PEER_TURN_PORT`);
  }
}

async function startTurn() {
  if (turn) return;
  await clearStaleTurn();
  const args = [
    "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
    `--listening-port=${TURN_PORT}`, "--min-port=49160", "--max-port=49200",
    "--use-auth-secret", `--static-auth-secret=${TURN_SECRET}`, "--realm=ice-peer.test",
    "--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint",
    "--log-file=stdout", "--simple-log", "--no-software-attribute",
    `--pidfile=${TURN_PIDFILE}`,
  ];
  const child = spawn(TURN_BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  const lines = [];
  const keep = (chunk) => {
    lines.push(...chunk.toString().split("\n"));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  child.on("exit", () => { if (turn === child) turn = null; });
  turn = child;
  // coturn listens on TCP and UDP on the same port; TCP answering means it is up.
  try {
    await waitForPort(TURN_PORT, 10000);
  } catch (e) {
    throw new Error(`${e.message}\n${lines.slice(-20).join("\n")}`);
  }
}

function stopTurn() {
  const child = turn;
  if (!child) return Promise.resolve();
  turn = null;
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

// ---- a port that never answers (one, bound on first use, for the server's life) ----
let silent = null;
function silentPort() {
  if (!silent) {
    silent = new Promise((resolve) => {
      const socket = dgram.createSocket("udp4");
      socket.on("message", () => {}); // swallowed
      socket.bind(0, "127.0.0.1", () => resolve(socket.address().port));
    });
  }
  return silent;
}

// ---- HTTP ----
function send(res, status, body, json = true) {
  const text = json ? JSON.stringify(body) : String(body ?? "");
  res.writeHead(status, {
    "Content-Type": json ? "application/json" : "text/plain",
    "Access-Control-Allow-Origin": "*",
  });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => resolve(data));
  });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, `http://127.0.0.1:${PORT}`);
  const [, route, name = ""] = url.pathname.split("/");
  try {
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Accept, Content-Type",
        "Access-Control-Max-Age": "600",
      });
      return res.end();
    }
    if (route === "health") return send(res, 200, "ok", false);
    if (route === "figure" && req.method === "POST") {
      // Figures the tests print (timings, memory); passing tests' console output is not shown.
      console.log(`FIGURE ${(await readBody(req)).replace(/\s+/g, " ")}`);
      return send(res, 200, { ok: true });
    }
    if (route === "script" && req.method === "POST") {
      const steps = JSON.parse(await readBody(req));
      if (!Array.isArray(steps) || steps.length === 0) return send(res, 400, { error: "steps" });
      scripts.set(name, { steps, next: 0 });
      return send(res, 200, { ok: true });
    }
    if (route === "reset" && req.method === "POST") {
      scripts.delete(name);
      logs.delete(name);
      return send(res, 200, { ok: true });
    }
    if (route === "log") return send(res, 200, logs.get(name) ?? []);
    if (route === "silent-port") return send(res, 200, { port: await silentPort() });
    if (route === "ice") {
      log(name, req);
      const script = scripts.get(name);
      if (!script) return send(res, 404, { success: false, error: "unscripted" });
      const step = script.steps[Math.min(script.next, script.steps.length - 1)];
      script.next += 1;
      if (step.hang) return; // never answers; the client's timeout aborts it
      if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
      if (step.turn) return send(res, step.status ?? 200, turnEnvelope(step.turn.ttl ?? 3600, step.turn.envelopeTtl));
      return send(res, step.status ?? 200, step.body ?? null, step.json !== false);
    }
    if (route === "turn" && req.method === "POST" && name === "stop") {
      await stopTurn();
      return send(res, 200, { ok: true, running: false });
    }
    if (route === "turn" && req.method === "POST" && name === "start") {
      await startTurn();
      return send(res, 200, { ok: true, running: true });
    }
    if (route === "turn" && req.method === "GET") {
      log(name, req);
      const ttl = Number(url.searchParams.get("ttl") ?? 3600);
      return send(res, 200, turnEnvelope(ttl));
    }
    send(res, 404, { error: "no route" });
  } catch (e) {
    send(res, 500, { error: String(e && e.message) });
  }
});

async function shutdown() {
  await stopTurn();
  server.close();
  process.exit(0);
}

process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
process.stdin.on("end", shutdown);
process.stdin.on("close", shutdown);
process.stdin.resume();

await startTurn();
server.listen(PORT, "127.0.0.1", () => {
  console.log(`fixture server on http://127.0.0.1:${PORT}, turn on 127.0.0.1:${TURN_PORT}`);
});
