// The network-lab scenarios (run through tests/netlab/run.sh, as root). Each
// scenario sets the routers up, starts two headless Chromiums, one in each
// client namespace, makes them call each other through the backend, checks
// what must hold and prints its figure ("FIGURE ..."). Exit code 1 if any failed.
//
//   node tests/netlab/lab.mjs [scenario ...]
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const { chromium } = createRequire(path.join(root, "scripts/package.json"))("playwright-core");
const serverBin = process.env.ICE_PEER_SERVER_BIN ?? path.join(root, "target/debug/ice-peer-server");
// page.js is one arrow-function expression (its trailing ";" dropped to call it).
const pageScript = readFileSync(path.join(here, "page.js"), "utf8").trim().replace(/;$/, "");
const PUB = "ipl-pub";
// Test-only secret: never a real one. The backends run --dev, which makes its
// own JWT secret (it refuses one given) and mints each page's token.
const TURN_SECRET = "netlab-turn-secret";

const topology = (...args) => execFileSync("bash", [path.join(here, "topology.sh"), ...args], { encoding: "utf8" }).trim();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const children = new Set();

/** Starts `argv` inside the public namespace; resolves once `ready` appears in its output. */
function startInPublic(name, argv, ready) {
  const child = spawn("ip", ["netns", "exec", PUB, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready after 15 s:\n${output.slice(-2000)}`)), 15000);
    const seen = (chunk) => {
      output += chunk;
      if (output.includes(ready)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on("data", seen);
    child.stderr.on("data", seen);
    child.on("exit", (code) => {
      children.delete(child);
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${output.slice(-2000)}`));
    });
  });
}

function stop(child) {
  if (child && children.has(child)) {
    child.kill("SIGKILL");
    children.delete(child);
  }
}

/** The reference backend on `ip`:8080 (--dev: serves www/ and pkg/, mints demo tokens). */
function backend(ip, providerArgs) {
  return startInPublic(`backend ${ip}`, [
    serverBin, "--dev", "--listen", `${ip}:8080`, "--turn-listen", `${ip}:3478`, "--turn-public-ip", ip,
    "--www-dir", path.join(root, "www"), "--pkg-dir", path.join(root, "pkg"), ...providerArgs,
  ], "listening on");
}

function coturn(ip, dir) {
  return startInPublic(`coturn ${ip}`, [
    "turnserver", "-n", "--listening-ip", ip, "--relay-ip", ip, "--listening-port", "3478",
    "--min-port", "40000", "--max-port", "40999", "--use-auth-secret", "--static-auth-secret", TURN_SECRET,
    "--realm", "netlab", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint", "--simple-log",
    "--log-file", "stdout", "--pidfile", path.join(dir, `coturn-${ip}.pid`), "--no-software-attribute",
  ], "Total General servers");
}

const embedded = (ip) => backend(ip, ["--provider", "embedded", "--turn-secret", TURN_SECRET]);
const turnRest = (ip, turnIps) => backend(ip, [
  "--provider", "turn-rest", "--turn-secret", TURN_SECRET,
  ...turnIps.flatMap((t) => ["--turn-url", `turn:${t}:3478?transport=udp`]),
]);

const BROWSER_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--no-first-run", "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
  // getUserMedia needs a secure context; the lab's backends are plain HTTP on
  // documentation addresses (a real deployment serves HTTPS).
  "--unsafely-treat-insecure-origin-as-secure=" +
    ["10", "11", "12"].map((h) => `http://203.0.113.${h}:8080`).join(","),
];

/**
 * The lab's own CA and a certificate it signed for the TURN over TLS server at
 * `ip`, in `dir`; returns the paths. Made with the openssl CLI, per run.
 */
function labCertificates(dir, ip) {
  const file = (name) => path.join(dir, name);
  const openssl = (...args) => execFileSync("openssl", args, { stdio: "ignore" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-days", "1", "-subj", "/CN=ice-peer network lab CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout", file("ca.key"), "-out", file("ca.pem"));
  openssl("req", ...ec, "-subj", `/CN=${ip}`, "-keyout", file("turn.key"), "-out", file("turn.csr"));
  writeFileSync(file("turn.ext"), `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  openssl("x509", "-req", "-in", file("turn.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
    "-CAcreateserial", "-days", "1", "-extfile", file("turn.ext"), "-out", file("turn.pem"));
  return { ca: file("ca.pem"), cert: file("turn.pem"), key: file("turn.key") };
}

/** A HOME whose NSS database (what Chromium on Linux trusts) holds the CA at `caPem`. */
function homeTrusting(dir, caPem) {
  const nssdb = path.join(dir, ".pki", "nssdb");
  mkdirSync(nssdb, { recursive: true });
  execFileSync("certutil", ["-d", `sql:${nssdb}`, "-N", "--empty-password"], { stdio: "ignore" });
  execFileSync("certutil", ["-d", `sql:${nssdb}`, "-A", "-t", "C,,", "-n", "ice-peer-lab-ca", "-i", caPem], { stdio: "ignore" });
  return dir;
}

/** A headless Chromium living in client namespace `side` ("a" | "b"); `home` for its NSS trust. */
async function browserIn(side, home) {
  const browser = await chromium.launch({
    executablePath: path.join(here, "chromium-in-ns.sh"),
    env: { ...process.env, LAB_NS: `ipl-c${side}`, ...(home ? { HOME: home } : {}) },
    args: BROWSER_ARGS,
    timeout: 30000,
  });
  const page = await (await browser.newContext()).newPage();
  page.on("console", (m) => m.type() === "error" && console.log(`  [${side} console] ${m.text()}`));
  return { browser, page, side };
}

/**
 * Client a creates a room for itself and b on the backend at `origin`; both
 * join it and call. `home` as for browserIn.
 */
async function call(origin, options = {}, home) {
  const a = await browserIn("a", home);
  const b = await browserIn("b", home);
  let room = null; // a's page creates it
  for (const c of [a, b]) {
    await c.page.goto(`${origin}/`, { waitUntil: "domcontentloaded", timeout: 15000 });
    room = await c.page.evaluate(`(${pageScript})(${JSON.stringify({ ...options, room, sub: `user-${c.side}`, peer: "user-b" })})`);
  }
  return { a, b, sides: [a, b] };
}

const lab = (c) => c.page.evaluate(() => {
  const { peer, ...rest } = window.lab;
  return rest;
});
const stats = (c) => c.page.evaluate(() => window.labStats());

async function waitUntil(predicate, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) {
      const detail = typeof what === "function" ? await what() : what;
      throw new Error(`timed out after ${ms} ms waiting for ${detail}`);
    }
    await sleep(200);
  }
}

// Good on both sides, with the selected pair in each side's stats: Chromium
// can say `connected` a moment before getStats names the pair in use.
const bothGood = (c, ms) => waitUntil(async () => {
  const [sa, sb] = await Promise.all([stats(c.a), stats(c.b)]);
  const ready = (s) => s?.quality === "good" && s.localType !== null;
  return ready(sa) && ready(sb) && [sa, sb];
}, ms, async () => `both sides good:\n${await describe(c)}`);

async function describe(c) {
  const out = [];
  for (const s of c.sides) out.push(`${s.side}: ${JSON.stringify({ ...(await lab(s)), stats: await stats(s) })}`);
  return out.join("\n");
}

async function hangUp(c) {
  for (const s of c?.sides ?? []) await s.browser.close().catch(() => {});
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

const relayed = (s) => s.localType === "relay" || s.remoteType === "relay";

// ---- scenarios ----

const E = "http://203.0.113.10:8080"; // the backend with the embedded TURN server
const STUN_ONLY = { explicitServers: [{ urls: "stun:203.0.113.10:3478" }] };
const embeddedBackend = () => embedded("203.0.113.10");

/**
 * One scenario's frame: the routers' NAT modes (which reset their rules),
 * `setup()` for more, the servers it needs (started in order, stopped
 * whatever happens), a call on `origin`, then `body(c, started)`, which
 * checks and returns the figure.
 */
async function inLab({ nat, setup, servers, origin, options, cleanup, home }, body) {
  topology("nat", "a", nat[0]);
  topology("nat", "b", nat[1]);
  setup?.();
  const started = [];
  let c;
  try {
    for (const start of servers) started.push(await start());
    c = await call(origin, options, home);
    return await body(c, started);
  } finally {
    cleanup?.();
    await hangUp(c);
    started.forEach(stop);
  }
}

/** Symmetric NAT on both sides, servers from a backend: the call must relay. */
const relayedCall = (what, servers, origin) =>
  inLab({ nat: ["symmetric", "symmetric"], servers, origin }, async (c) => {
    const [sa, sb] = await bothGood(c, 30000);
    expect(relayed(sa) && relayed(sb), `the call is relayed: ${JSON.stringify([sa, sb])}`);
    const [la, lb] = [await lab(c.a), await lab(c.b)];
    return `symmetric NAT both sides, ${what}: relayed (local ${sa.localType}/${sb.localType}), createPeer → good ${la.goodAt} ms / ${lb.goodAt} ms`;
  });

/**
 * Moves each client in turn to a new address mid-call and prints the time
 * to media and `good` again. The restart is the library's alone: the room
 * client only resumes its socket (at once on a network change or a dropped
 * path) and delivers what was sent meanwhile. `flap`: the link goes down
 * during the move, as when a device switches networks, so the browser sees
 * it (offline, online); without it, the address just changes under it.
 */
const addressChange = (flap) =>
  inLab({ nat: ["cone", "cone"], servers: [embeddedBackend], origin: E }, async (c) => {
    await bothGood(c, 20000);
    // Media bytes received by both sides over `ms`.
    const flow = async (ms) => {
      const before = [(await stats(c.a)).mediaBytesReceived, (await stats(c.b)).mediaBytesReceived];
      await sleep(ms);
      const after = [(await stats(c.a)).mediaBytesReceived, (await stats(c.b)).mediaBytesReceived];
      return after.map((n, i) => n - before[i]);
    };
    const figures = [];
    // a answers (it joined first), b offers: move each in turn.
    for (const [side, role] of [["a", "answering side"], ["b", "offering side"]]) {
      const movedAt = Date.now();
      const address = topology("readdress", side, ...(flap ? ["flap"] : []));
      // The move breaks the path: a window in which the moved side receives nothing...
      await waitUntil(async () => (await flow(500))[side === "a" ? 0 : 1] === 0, 10000, `the outage after ${side} moved`);
      // ...then both receive again and say good.
      await waitUntil(async () => {
        const received = await flow(500);
        const [sa, sb] = [await stats(c.a), await stats(c.b)];
        return received.every((n) => n > 0) && sa.quality === "good" && sb.quality === "good";
      }, 40000, async () => `media again after ${side} moved to ${address}:\n${await describe(c)}`);
      const took = Date.now() - movedAt;
      const moved = await lab(c[side]);
      const resumes = moved.log.filter((l) => l.startsWith("signaling reconnects")).length;
      figures.push(`${role} (${side}) moved to ${address}: media and good again after ${took} ms ` +
        `(its signaling socket resumed ${resumes}x; ICE states ${JSON.stringify(moved.states.map(([, st]) => st))})`);
      // What each side saw after the move, in ms from it: what bounds the figure.
      for (const s of c.sides) {
        const seen = (await lab(s)).wall.filter(([at]) => at >= movedAt).map(([at, what]) => `+${at - movedAt} ${what}`);
        console.log(`  after ${side} moved, ${s.side} saw: ${seen.join("; ")}`);
      }
    }
    return `address change mid-call${flap ? " with a link flap" : ""} (the library's restart, the room client's resume): ${figures.join("; ")}`;
  });

/** Both sides' networkQuality, a then b. */
const levels = async (c) => [(await stats(c.a)).networkQuality, (await stats(c.b)).networkQuality];
const healthy = (level) => ["excellent", "good"].includes(level);
const impaired = (level) => ["poor", "bad"].includes(level);
/** Waits (bounded) until both sides' levels pass `test`; returns them. */
const levelsUntil = (c, test, ms, what) =>
  waitUntil(async () => { const l = await levels(c); return l.every(test) && l; },
    ms, async () => `${what}: ${JSON.stringify(await levels(c))}`);

/**
 * preflight() in client a's browser against the embedded backend's servers,
 * fetched before `block()` changes the network (the page and its servers
 * come over the same router). `check(report, ms, timeoutMs)` asserts.
 */
async function preflightScenario({ nat, label, block }, check) {
  const timeoutMs = 4000;
  topology("nat", "a", nat);
  topology("udp", "a", "allow");
  const started = [await embeddedBackend()];
  let client;
  try {
    client = await browserIn("a");
    await client.page.goto(`${E}/`, { waitUntil: "domcontentloaded", timeout: 15000 });
    await client.page.evaluate(async () => {
      const mod = await import("/pkg/ice_peer.js");
      await mod.default();
      const { token } = await (await fetch("/api/dev/token", { method: "POST", body: JSON.stringify({ sub: "preflight" }) })).json();
      window.preflightManager = new mod.PeerManager({ token });
      await window.preflightManager.getIceServers(); // cached for the preflight below
    });
    block?.();
    const began = Date.now();
    const report = await client.page.evaluate((ms) => window.preflightManager.preflight({ timeoutMs: ms }), timeoutMs);
    const ms = Date.now() - began;
    check(report, ms, timeoutMs);
    const rows = report.checks.map((c) => `${c.kind}/${c.transport} ${c.ok ? `ok ${c.ms} ms` : `failed (${c.errorCode ?? "-"} ${c.errorText})`}`);
    return `preflight from client a (${nat} NAT${label ? `, ${label}` : ""}): ` +
      `${report.verdict} [${report.relayTransports.join(", ")}] in ${report.durationMs} ms: ${rows.join("; ")}`;
  } finally {
    topology("udp", "a", "allow");
    topology("impair", "a", "0");
    await client?.browser.close().catch(() => {});
    started.forEach(stop);
  }
}

const scenarios = {
  "symmetric-stun-only": () =>
    inLab({ nat: ["symmetric", "symmetric"], servers: [embeddedBackend], origin: E, options: STUN_ONLY }, async (c) => {
      const reached = await bothGood(c, 12000).then(() => true, () => false);
      const [sa, sb] = [await stats(c.a), await stats(c.b)];
      expect(sa.gathered.includes("srflx") && sb.gathered.includes("srflx"),
        `STUN worked (srflx gathered on both sides): ${JSON.stringify([sa.gathered, sb.gathered])}`);
      expect(!reached, `a call across two symmetric NATs without TURN must not connect:\n${await describe(c)}`);
      return `symmetric NAT both sides, STUN only: not good within 12 s (states a ${JSON.stringify((await lab(c.a)).states)})`;
    }),

  "symmetric-embedded-turn": () => relayedCall("embedded TURN", [embeddedBackend], E),

  "symmetric-coturn-turn-rest": () => relayedCall("coturn via turn-rest",
    [() => coturn("203.0.113.20", scratch), () => turnRest("203.0.113.11", ["203.0.113.20"])], "http://203.0.113.11:8080"),

  "cone-stun-only": () =>
    inLab({ nat: ["cone", "cone"], servers: [embeddedBackend], origin: E, options: STUN_ONLY }, async (c) => {
      const [sa, sb] = await bothGood(c, 20000);
      for (const s of [sa, sb]) {
        expect(["srflx", "prflx"].includes(s.localType) && s.remoteType !== "relay" && s.remoteType !== "host",
          `a direct call through the NATs (srflx/prflx, no relay, no host): ${JSON.stringify([sa, sb])}`);
      }
      const [la, lb] = [await lab(c.a), await lab(c.b)];
      return `cone NAT both sides, STUN only: direct (${sa.localType}/${sb.localType}), createPeer → good ${la.goodAt} ms / ${lb.goodAt} ms`;
    }),

  "udp-blocked-turn-tcp": () =>
    inLab({
      nat: ["cone", "cone"],
      setup: () => topology("udp", "a", "block"),
      cleanup: () => topology("udp", "a", "allow"),
      servers: [embeddedBackend],
      origin: E,
    }, async (c) => {
      const [sa, sb] = await bothGood(c, 30000);
      expect(sa.localType === "relay" && sa.relayProtocol === "tcp", `side a (UDP dropped) relays over TCP: ${JSON.stringify(sa)}`);
      const la = await lab(c.a);
      return `UDP dropped at router a: connected through TURN over TCP (a: ${sa.localType}/${sa.relayProtocol}, b: ${sb.localType}), createPeer → good ${la.goodAt} ms`;
    }),

  "tls-only-turns": () => {
    // Side a's firewall lets only TCP to 443 (and the web server) out: no UDP,
    // no TURN on 3478. The embedded server also serves TURN over TLS on 443,
    // with a certificate from the lab's CA, which both Chromiums trust.
    const dir = path.join(scratch, "tls");
    mkdirSync(dir, { recursive: true });
    const { ca, cert, key } = labCertificates(dir, "203.0.113.10");
    const tlsBackend = () => backend("203.0.113.10", ["--provider", "embedded", "--turn-secret", TURN_SECRET,
      "--turn-tls-listen", "203.0.113.10:443", "--turn-tls-cert", cert, "--turn-tls-key", key]);
    return inLab({
      nat: ["cone", "cone"],
      setup: () => topology("tlsonly", "a", "on"),
      cleanup: () => topology("tlsonly", "a", "off"),
      servers: [tlsBackend],
      origin: E,
      options: { relay: true },
      home: homeTrusting(path.join(dir, "home"), ca),
    }, async (c) => {
      const [sa, sb] = await bothGood(c, 40000);
      expect(sa.localType === "relay" && sa.relayProtocol === "tls",
        `side a (only TCP 443 out) relays over TURN/TLS: ${JSON.stringify(sa)}`);
      const la = await lab(c.a);
      return `only TCP 443 (and the web server) open at router a: connected through turns: (a: ${sa.localType}/${sa.relayProtocol}, ` +
        `b: ${sb.localType}/${sb.relayProtocol}), createPeer → good ${la.goodAt} ms`;
    });
  },

  "turn-failover": () => {
    const turnIps = ["203.0.113.20", "203.0.113.21"];
    return inLab({
      nat: ["cone", "cone"],
      servers: [...turnIps.map((ip) => () => coturn(ip, scratch)), () => turnRest("203.0.113.12", turnIps)],
      origin: "http://203.0.113.12:8080",
      options: { relay: true },
    }, async (c, started) => {
      const [sa] = await bothGood(c, 20000);
      const used = sa.localAddress;
      expect(turnIps.includes(used), `a relays through one of the two coturns: ${JSON.stringify(sa)}`);
      const killedAt = Date.now();
      stop(started[turnIps.indexOf(used)]);
      const [ra, rb] = await waitUntil(async () => {
        const [x, y] = [await stats(c.a), await stats(c.b)];
        return x?.quality === "good" && y?.quality === "good" && x.localAddress !== used && y.localAddress !== used && [x, y];
      }, 45000, `good again through the other TURN server (killed ${used})`);
      return `TURN failover: killed ${used} mid-call, good again through ${ra.localAddress}/${rb.localAddress} after ${Date.now() - killedAt} ms ` +
        `(states a ${JSON.stringify((await lab(c.a)).states.slice(-4))})`;
    });
  },

  "loss-drives-network-quality": () =>
    inLab({ nat: ["cone", "cone"], servers: [embeddedBackend], origin: E, cleanup: () => topology("impair", "a", "0") },
      async (c) => {
        await bothGood(c, 20000);
        const before = await levelsUntil(c, healthy, 15000, "both sides measured healthy");
        topology("impair", "a", "30");
        const lossAt = Date.now();
        const down = await waitUntil(async () => { const l = await levels(c); return l.some(impaired) && l; },
          10000, async () => `30 % loss to drive the network quality down within 10 s: ${JSON.stringify(await levels(c))}`);
        const downMs = Date.now() - lossAt;
        const sa = await stats(c.a);
        expect(sa.quality === "good", `ICE still says good (the point of networkQuality): ${sa.quality}`);
        topology("impair", "a", "0");
        const clearAt = Date.now();
        const up = await levelsUntil(c, healthy, 30000, "recovery once the loss stops");
        return `30 % loss at router a: network quality ${before.join("/")} → ${down.join("/")} in ${downMs} ms ` +
          `(ICE quality still ${sa.quality}); back to ${up.join("/")} ${Date.now() - clearAt} ms after the loss stopped`;
      }),

  // The uplink of one client loses 30 %: the side that receives it hears it
  // in its inbound RTP, the side that sends it in the other's receiver
  // reports. Both must leave "excellent"/"good", not only the receiver.
  "uplink-loss-both-sides": () =>
    inLab({ nat: ["cone", "cone"], servers: [embeddedBackend], origin: E, cleanup: () => topology("impair", "a", "0") },
      async (c) => {
        await bothGood(c, 20000);
        const before = await levelsUntil(c, healthy, 15000, "both sides measured healthy");
        const b0 = await stats(c.b);
        topology("impair", "a", "30", "up");
        const lossAt = Date.now();
        const down = await levelsUntil(c, impaired, 10000, "30 % loss on a's uplink to drive BOTH sides down within 10 s");
        const downMs = Date.now() - lossAt;
        const [a1, b1] = [await stats(c.a), await stats(c.b)];
        const lostPct = (s1, s0) => {
          const lost = s1.inboundLost - s0.inboundLost, got = s1.inboundReceived - s0.inboundReceived;
          return lost + got > 0 ? Math.round((100 * lost) / (lost + got)) : null;
        };
        const sending = (s) => `${s.sendFractionLost == null ? "?" : Math.round(s.sendFractionLost * 100)} % reported lost`;
        topology("impair", "a", "0");
        const clearAt = Date.now();
        const up = await levelsUntil(c, healthy, 30000, "recovery once the loss stops");
        return `30 % loss on a's uplink: a (sender) ${before[0]} → ${down[0]}, b (receiver) ${before[1]} → ${down[1]} ` +
          `within ${downMs} ms (a: what it sends ${sending(a1)}, RTCP round trip ${a1.sendRttMs ?? "?"} ms; b: what it receives ` +
          `${lostPct(b1, b0)} % lost since the loss began); both back to ${up.join("/")} ${Date.now() - clearAt} ms after it stopped`;
      }),

  // preflight() from client a, with the routers set up as each case needs.
  "preflight-cone-direct": () => preflightScenario({ nat: "cone" }, (r) => {
    expect(r.verdict === "direct", `cone NAT: verdict direct: ${JSON.stringify(r)}`);
    expect(r.checks.some((c) => c.kind === "stun" && c.ok), `a STUN check passed: ${JSON.stringify(r.checks)}`);
  }),
  "preflight-udp-blocked-relay-tcp": () => preflightScenario({ nat: "symmetric", label: "UDP dropped at the router", block: () => topology("udp", "a", "block") }, (r) => {
    expect(r.verdict === "relay", `UDP dropped at the router: verdict relay: ${JSON.stringify(r)}`);
    expect(JSON.stringify(r.relayTransports) === JSON.stringify(["tcp"]), `relay over TCP only: ${JSON.stringify(r.relayTransports)}`);
  }),
  "preflight-everything-dropped-blocked": () => preflightScenario({ nat: "cone", label: "everything from its LAN dropped", block: () => topology("impair", "a", "100", "up") }, (r, ms, timeoutMs) => {
    expect(r.verdict === "blocked" && r.relayTransports.length === 0, `nothing reaches the public side: blocked: ${JSON.stringify(r)}`);
    expect(r.checks.length > 0 && r.checks.every((c) => !c.ok), `every check failed: ${JSON.stringify(r.checks)}`);
    expect(ms < timeoutMs + 2000, `within the deadline (${timeoutMs} ms per check, side by side): ${ms} ms`);
  }),

  "address-change": () => addressChange(false),
  "address-change-link-flap": () => addressChange(true),

  "expired-credential-embedded": () =>
    inLab({ nat: ["symmetric", "symmetric"], servers: [embeddedBackend], origin: E, options: { expireFirstServers: true } },
      async (c) => {
        const [sa, sb] = await bothGood(c, 30000);
        const [la, lb] = [await lab(c.a), await lab(c.b)];
        const errors = [...la.candidateErrors, ...lb.candidateErrors];
        expect(errors.some((e) => e.code === 401), `a 401 from the embedded TURN server: ${JSON.stringify(errors)}`);
        expect(la.serverFetches >= 2 || lb.serverFetches >= 2, `servers refetched after the 401: ${la.serverFetches}/${lb.serverFetches}`);
        expect(relayed(sa) && relayed(sb), `the call is relayed: ${JSON.stringify([sa, sb])}`);
        return `expired credential vs the embedded TURN: 401 seen, refetched (${la.serverFetches}/${lb.serverFetches} requests), good at ${la.goodAt}/${lb.goodAt} ms`;
      }),
};

// ---- runner ----

const scratch = mkdtempSync(path.join(tmpdir(), "netlab-"));
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(scenarios);
const results = [];
for (const name of chosen) {
  if (!scenarios[name]) {
    results.push([name, false, "no such scenario"]);
    continue;
  }
  const began = Date.now();
  try {
    const figure = await Promise.race([
      scenarios[name](),
      sleep(120000).then(() => { throw new Error("scenario took over 120 s"); }),
    ]);
    results.push([name, true, figure]);
    console.log(`ok   ${name} (${((Date.now() - began) / 1000).toFixed(1)} s)\nFIGURE ${figure}`);
  } catch (error) {
    results.push([name, false, error.message]);
    console.log(`FAIL ${name} (${((Date.now() - began) / 1000).toFixed(1)} s)\n  ${error.message.replaceAll("\n", "\n  ")}`);
  }
}
for (const child of children) child.kill("SIGKILL");
rmSync(scratch, { recursive: true, force: true });
const failed = results.filter(([, ok]) => !ok);
console.log(`\nnetwork lab: ${results.length - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
