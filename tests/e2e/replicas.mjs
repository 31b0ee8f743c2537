// Two backend replicas sharing one real redis-server, each behind a front of
// its own that plays the part of the app's web server: it serves the demo
// (www/ and pkg/), signs users in (POST /api/dev/token, an HS256 JWT made with
// the secret the replicas share) and passes every other /api/ request and the
// signaling WebSocket through to its one replica. The replicas run without
// --dev: --dev makes a random secret per process, so two of them could not
// verify each other's tokens.
import { spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { freePort, keepOutput, repoRoot, serverBin, stopProcess, withTimeout } from "./harness.mjs";

/** Sends PING to a Redis on `port`; resolves true on +PONG, false on anything else. */
function redisPing(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

/**
 * A redis-server of the test's own on a free loopback port, without
 * persistence. Missing redis-server is an error, never a skip (CI installs it
 * with scripts/setup.sh). Redis refuses port 0, so the port is found by
 * binding and releasing it, retried if someone takes it in between.
 */
export async function startRedis() {
  let lastError;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(
      "redis-server",
      ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const output = keepOutput(child);
    const spawned = new Promise((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    try {
      await spawned;
    } catch (err) {
      throw new Error(`cannot run redis-server (scripts/setup.sh installs it): ${err.message}`);
    }
    const deadline = Date.now() + 10_000;
    while (child.exitCode === null && Date.now() < deadline && !(await redisPing(port))) {
      await new Promise((r) => setTimeout(r, 50)); // poll interval, not an assertion
    }
    if (child.exitCode === null && (await redisPing(port))) {
      return { url: `redis://127.0.0.1:${port}/`, stop: () => stopProcess(child) };
    }
    lastError = `no PONG on port ${port}; redis-server said:\n${output()}`;
    child.kill("SIGKILL");
  }
  throw new Error(`redis-server did not start: ${lastError}`);
}

/**
 * Runs the server binary without --dev, with the embedded TURN server on a
 * free UDP port, `secret` as its JWT secret (in the environment: flags show
 * up in `ps`), and `args`. Resolves once it prints its listening line.
 */
export async function startReplica(secret, args) {
  // No server setting from the environment but the secret, so it cannot change the test.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(ICE_|TURN_|TWILIO_|SIGNAL_|JWT_|REDIS_URL$)/.test(name)));
  env.JWT_SECRET = secret;
  // Both pages relay through a TURN server on loopback, which the peer filter refuses unless opened.
  const child = spawn(
    serverBin,
    ["--provider", "embedded", "--listen", "127.0.0.1:0", "--turn-listen", "127.0.0.1:0", "--turn-allow-peer", "127.0.0.0/8", ...args],
    { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  const output = keepOutput(child);
  const listening = new Promise((resolve, reject) => {
    child.stdout.on("data", () => {
      const match = /listening on http:\/\/(127\.0\.0\.1:\d+)/.exec(output());
      if (match) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`replica exited early with code ${code}`)));
    child.once("error", reject);
  });
  try {
    const host = await withTimeout(listening, 30_000, "replica listening line");
    return { host, log: output, stop: () => stopProcess(child) };
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${err.message}\n--- replica output ---\n${output()}`);
  }
}

const base64url = (data) => Buffer.from(data).toString("base64url");

/** An HS256 JWT for `sub`, valid for an hour: what the app's own sign-in would hand out. */
export function mintToken(secret, sub) {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + 3600;
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const claims = base64url(JSON.stringify({ sub, iat: now, exp }));
  const signature = createHmac("sha256", secret).update(`${header}.${claims}`).digest("base64url");
  return { token: `${header}.${claims}.${signature}`, expiresAt: exp * 1000 };
}

const MIME = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".wasm": "application/wasm", ".png": "image/png", ".json": "application/json" };

/** The file a GET path names under www/ (or pkg/ for /pkg/), or null for anything that could escape them. */
function staticFile(urlPath) {
  const [root, rel] = urlPath.startsWith("/pkg/") ? ["pkg", urlPath.slice(5)] : ["www", urlPath === "/" ? "index.html" : urlPath];
  const segments = rel.split("/").filter(Boolean);
  if (segments.length === 0 || segments.some((s) => s.startsWith(".") || /[\\%\0:]/.test(s))) return null;
  return path.join(repoRoot, root, ...segments);
}

/**
 * Reads a JSON request body of at most 4 KiB; null when it is not JSON.
 * @param {http.IncomingMessage} req
 */
async function jsonBody(req) {
  let body = "";
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 4096) return null;
  }
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

/**
 * The front of one replica, on a free loopback port: static files, sign-in,
 * and a pass-through of /api/ (HTTP and the WebSocket upgrade) to `target()`
 * (`host:port`, known once the replica runs, which needs the front's origin
 * for its --cors-origin first). `forwarded` counts what went through, by path.
 */
export async function startFront(secret, target) {
  const forwarded = { iceServers: 0, rooms: 0, signalUpgrades: 0 };
  const tunnels = new Set(); // upgraded sockets: the HTTP server no longer tracks them
  const server = http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url, "http://front");
    try {
      if (pathname === "/api/dev/token" && req.method === "POST") {
        const sub = (await jsonBody(req))?.sub;
        if (typeof sub !== "string" || !/^[^\s]{1,128}$/.test(sub)) return void res.writeHead(400).end();
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
        return void res.end(JSON.stringify({ ...mintToken(secret, sub), sub }));
      }
      if (pathname.startsWith("/api/")) {
        if (pathname === "/api/calls/ice-servers") forwarded.iceServers++;
        if (pathname === "/api/calls/rooms") forwarded.rooms++;
        const upstream = http.request(`http://${target()}${req.url}`, { method: req.method, headers: { ...req.headers, host: target() } });
        upstream.on("response", (answer) => {
          res.writeHead(answer.statusCode, answer.headers);
          answer.pipe(res);
        });
        upstream.on("error", () => res.writeHead(502).end());
        return void req.pipe(upstream);
      }
      const file = req.method === "GET" ? staticFile(pathname) : null;
      const body = file && (await readFile(file).catch(() => null));
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": MIME[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
      res.end(body);
    } catch {
      res.destroy();
    }
  });
  // The signaling socket: the upgrade request goes to the replica as it came
  // (Origin included; only Host names the replica), then bytes both ways.
  server.on("upgrade", (req, socket, head) => {
    if (!req.url.startsWith("/api/calls/signal")) return void socket.destroy();
    forwarded.signalUpgrades++;
    const [host, port] = target().split(":");
    const upstream = net.connect(Number(port), host, () => {
      const headers = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const [name, value] = [req.rawHeaders[i], req.rawHeaders[i + 1]];
        headers.push(`${name}: ${name.toLowerCase() === "host" ? target() : value}`);
      }
      upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    const cut = () => {
      upstream.destroy();
      socket.destroy();
      tunnels.delete(cut);
    };
    tunnels.add(cut);
    upstream.on("error", cut);
    socket.on("error", cut);
    upstream.on("close", cut);
    socket.on("close", cut);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  const stop = () => new Promise((resolve) => {
    for (const cut of [...tunnels]) cut();
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return { url, forwarded, stop };
}

/** A fresh 48-byte secret, base64url: what the replicas share and the fronts sign with. */
export const newSecret = () => randomBytes(48).toString("base64url");
