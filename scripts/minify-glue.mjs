// Makes pkg/ice_peer.js one small file: the hand-written modules it imports
// (src/web/js/, which wasm-bindgen copies to pkg/snippets/) are bundled into
// it, and the result is minified with terser. One file instead of
// four saves a round trip before the wasm can load (about 20 ms for an app
// that serves the package unbundled) and compresses better.
//
// Class names are kept (`Peer.name`, stack traces and the console still say
// Peer / PeerManager); the `@ts-self-types` comment that points Deno/JSR at
// the .d.ts is kept. The JSDoc lives on in ice_peer.d.ts. package.json no
// longer lists the snippets.
//
//   node scripts/minify-glue.mjs pkg
//
// Fails (exit 1, files left as they were) unless the new module exports the
// same names, with the same kinds and class names, as the original.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { minify } from "terser";

const dir = process.argv[2];
if (!dir) fail("usage: node scripts/minify-glue.mjs <pkg dir>");
const gluePath = path.join(dir, "ice_peer.js");
const snippets = path.join(dir, "snippets");
const SELF_TYPES = /^\/\* @ts-self-types="[^"]*" \*\/\n/;

function fail(message) {
  console.error(`minify-glue: ${message}`);
  process.exit(1);
}

// The module `code` makes, imported from a copy beside the glue, so that
// its relative imports (the snippets) resolve.
let checks = 0;
async function load(code) {
  const copy = `${gluePath}.check-${process.pid}-${checks++}.mjs`;
  fs.writeFileSync(copy, code);
  try {
    return await import(pathToFileURL(copy).href);
  } finally {
    fs.rmSync(copy, { force: true });
  }
}

// The public surface: export name -> kind (and name for classes/functions).
async function surface(code) {
  const mod = await load(code);
  return Object.keys(mod)
      .sort()
      .map((key) => {
        const value = mod[key];
        const isClass = typeof value === "function" && /^class\b/.test(Function.prototype.toString.call(value));
      return `${key}: ${isClass ? `class ${value.name}` : typeof value}`;
    })
    .join("\n");
}

// The snippets import the enums shared with Rust from kinds.js, a mirror of
// the ones the glue exports (src/web/kinds.rs). This fails unless every name
// has the same value in both; then the bundle writes each use
// (`Report.IceState`) as its value, as a compiler would a constant. They are
// internal (src/web/kinds.rs skips them in the .d.ts): the package does not
// export them, and their objects, which no code uses any more, are left out.
const KINDS_IMPORT = /^import\s*\{([^}]*)\}\s*from\s*["']\.\/kinds\.js["'];?\n/gm;
const kindsFiles = new Set();
const kindValues = new Map(); // "Report.IceState" -> 1
async function checkKinds(glue) {
  const generated = await load(glue);
  for (const file of kindsFiles) {
    const mirror = await import(pathToFileURL(file).href);
    for (const [name, values] of Object.entries(mirror)) {
      const own = generated[name];
      if (!own) fail(`${file} exports ${name}, which the glue does not`);
      const named = (object) => JSON.stringify(Object.entries(object).filter(([key]) => !/^\d+$/.test(key)));
      if (named(values) !== named(own)) fail(`${name} in ${file} is ${named(values)}; the glue's is ${named(own)}`);
      for (const [key, value] of Object.entries(values)) kindValues.set(`${name}.${key}`, value);
    }
  }
}

// The snippets' code goes in front of the glue's, with `export` dropped; the
// glue's imports of them become plain bindings. Snippets are plain modules
// with `export function` or `export class` and no imports of their own but
// kinds.js (see checkKinds), and
// their top-level names must not clash with the glue's: anything else fails
// here. (Not a function scope per snippet: terser's second compress pass
// inlines it and then trips over the names.)
const TOP_LEVEL = /^(?:export\s+)?(?:async\s+)?(?:const|let|var|function\*?|class)\s+([\w$]+)/gm;
function inline(glue) {
  const modules = new Map(); // path as the glue imports it -> its export names
  const load = (from) => {
    if (!modules.has(from)) {
      let code = fs.readFileSync(path.join(dir, from), "utf8");
      if (code.match(KINDS_IMPORT)) kindsFiles.add(path.join(dir, path.dirname(from), "kinds.js"));
      code = code.replace(KINDS_IMPORT, "");
      const exported = [...code.matchAll(/^export\s+(?:function|class)\s+([\w$]+)/gm)].map((m) => m[1]);
      modules.set(from, { code: code.replace(/^export\s+(?=function|class)/gm, ""), exported });
    }
    return modules.get(from);
  };
  const declared = new Set();
  const namespaces = new Map(); // path -> the name of its one namespace object
  const glueCode = glue
    .replace(/^import\s*\{([^}]*)\}\s*from\s*["'](\.\/snippets\/[^"']+)["'];?$/gm, (_, names, from) => {
      load(from);
      // `a as b` becomes `const b = a`; a name imported as itself needs nothing.
      return names
        .split(",")
        .map((n) => n.trim().split(/\s+as\s+/))
        .filter(([name, alias]) => name && alias && alias !== name && !declared.has(alias) && declared.add(alias))
        .map(([name, alias]) => `const ${alias} = ${name};`)
        .join("\n");
    })
    // wasm-bindgen imports a module once per function the wasm takes from it
    // directly: one namespace object each is enough.
    .replace(/^import\s*\*\s*as\s+(\w+)\s+from\s*["'](\.\/snippets\/[^"']+)["'];?$/gm, (_, name, from) => {
      const first = namespaces.get(from);
      if (first) return `const ${name} = ${first};`;
      namespaces.set(from, name);
      return `const ${name} = { ${load(from).exported.join(", ")} };`;
    });
  if (/from\s*["']\.\/snippets\//.test(glueCode)) fail("the glue imports a snippet in a form this script does not know");
  const owner = new Map();
  const claim = (name, who) => {
    if (owner.has(name)) fail(`${name} is declared at the top of both ${owner.get(name)} and ${who}`);
    owner.set(name, who);
  };
  for (const m of glueCode.matchAll(TOP_LEVEL)) claim(m[1], "the glue");
  for (const [from, { code }] of modules) {
    if (/^\s*(export|import)\b/m.test(code)) fail(`${from} has an import or an export other than a function or class`);
    for (const m of code.matchAll(TOP_LEVEL)) claim(m[1], from);
  }
  return `${[...modules.values()].map((m) => m.code).join("\n")}\n${glueCode}`;
}

// Each use of a shared enum in the snippets' code, by its value.
function foldKinds(code) {
  return code.replace(/\b(Report|Operation|FetchOutcome|ManagerEvent)\.([A-Za-z]+)\b/g, (use) => {
    if (!kindValues.has(use)) fail(`${use} is not a value of kinds.js`);
    return String(kindValues.get(use));
  });
}

// wasm-bindgen's warnings to developers, said in fewer words (the same
// cases, the same console.warn): -0.1 KB gzipped. Text that is not found
// (another wasm-bindgen version) stays as it is.
const WARNINGS = [
  [
    "`WebAssembly.instantiateStreaming` failed because your server does not serve Wasm with `application/wasm` MIME type. Falling back to `WebAssembly.instantiate` which is slower. Original error:\\n",
    "ice-peer: the .wasm is not served as application/wasm, so it is compiled without streaming (slower):",
  ],
  ["using deprecated parameters for `initSync()`; pass a single object instead", "ice-peer: initSync() takes one object, { module }"],
  ["using deprecated parameters for the initialization function; pass a single object instead", "ice-peer: init() takes one object, { module_or_path }"],
];
const shortened = (code) => WARNINGS.reduce((text, [long, short]) => text.replace(long, short), code);

const source = fs.readFileSync(gluePath, "utf8");
const bundled = inline(shortened(source.replace(SELF_TYPES, "")));
await checkKinds(source);
const KINDS = /^export const (Report|Operation|FetchOutcome|ManagerEvent) = Object\.freeze\(\{[\s\S]*?\n\}\);\n/gm;
const internal = new Set([...source.matchAll(KINDS)].map((m) => m[1]));
const selfTypes = source.match(SELF_TYPES)?.[0] ?? "";
const result = await minify(foldKinds(bundled.replace(KINDS, "")), {
  module: true,
  // ES2020 (every browser with RTCPeerConnection.restartIce() has it), and
  // function expressions that use neither `this` nor `arguments` written as
  // arrows or object methods (nothing constructs them with `new`): -46 B
  // gzipped. A third pass and `unsafe` gained nothing.
  compress: { passes: 2, ecma: 2020, unsafe_arrows: true, unsafe_methods: true },
  mangle: true,
  keep_classnames: true,
});
if (typeof result.code !== "string") fail("terser returned no code");
const code = `${selfTypes}${result.code}\n`;

const before = (await surface(source))
  .split("\n")
  .filter((line) => !internal.has(line.split(":")[0]))
  .join("\n");
const after = await surface(code);
if (before !== after) fail(`the exports changed\n--- before\n${before}\n--- after\n${after}`);

fs.writeFileSync(gluePath, code);
fs.rmSync(snippets, { recursive: true, force: true });
const manifestPath = path.join(dir, "package.json");
const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
manifest.files = (manifest.files ?? []).filter((f) => f !== "snippets");
if (Array.isArray(manifest.sideEffects)) {
  manifest.sideEffects = manifest.sideEffects.filter((f) => !f.startsWith("./snippets/"));
  if (manifest.sideEffects.length === 0) manifest.sideEffects = false;
}
fs.writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`minify-glue: ice_peer.js and its snippets ${source.length} -> ${code.length} bytes in one file, exports unchanged (${before.split("\n").length})`);
