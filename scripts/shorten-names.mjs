// Shortens the names wasm-bindgen gives the wasm's imports and exports
// (`__wbg_createOffer_edc965f2e03b6f6f`, `wasm_bindgen_<hash>___convert__closures…`)
// to one or two characters, in the .wasm and in the JS glue that uses them,
// so that each name is not shipped twice at full length (-3 to -4 KB gzipped).
//
//   node scripts/shorten-names.mjs pkg
//
// What it keeps: the package's public JS names (classes, functions, `default`,
// `initSync`) never change, since only the glue's private references are
// rewritten (`wasm.<export>`, the keys of the imports object and its module
// name). The `memory` export keeps its name: the value `init()` resolves to is
// documented (`InitOutput`) and read by callers for `memory.buffer`.
// The .d.ts files' `InitOutput` lists the raw exports, so they are renamed there too.
// Functions of hand-written modules (snippets/) keep their export names; the
// long path of their module, repeated for each import, becomes `a1`, `a2`...
//
// Fails (exit 1, no file written) when the glue does not have the shape this
// relies on, or when after the rewrite any wasm import has no key in the
// imports object, or the glue reads an export the wasm does not have.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const dir = process.argv[2];
if (!dir) fail("usage: node scripts/shorten-names.mjs <pkg dir>");
const wasmPath = path.join(dir, "ice_peer_bg.wasm");
const gluePath = path.join(dir, "ice_peer.js");
const dtsPaths = [path.join(dir, "ice_peer.d.ts"), path.join(dir, "ice_peer_bg.wasm.d.ts")];
const GLUE_MODULE = "./ice_peer_bg.js";
const SHORT_MODULE = "a";

function fail(message) {
  console.error(`shorten-names: ${message}`);
  process.exit(1);
}

// Short names in a fixed order: a..z A..Z _ $, then two characters, and so on.
// Valid as JS property names without quotes (reserved words are legal there).
function shortNames() {
  const first = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$";
  const rest = first + "0123456789";
  let n = 0;
  return () => {
    let i = n++;
    let name = first[i % first.length];
    i = Math.floor(i / first.length);
    while (i > 0) {
      i -= 1;
      name += rest[i % rest.length];
      i = Math.floor(i / rest.length);
    }
    return name;
  };
}

// --- the wasm binary: only the import (2) and export (7) sections change ---
const bytes = fs.readFileSync(wasmPath);
if (bytes.readUInt32LE(0) !== 0x6d736100) fail(`${wasmPath} is not a wasm module`);

function readU32(buf, pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[pos++];
    if (byte === undefined || shift > 28) fail("truncated or malformed LEB128 in the wasm");
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [result, pos];
  }
}
function writeU32(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return Buffer.from(out);
}
const encodeName = (name) => {
  const utf8 = Buffer.from(name, "utf8");
  return Buffer.concat([writeU32(utf8.length), utf8]);
};
function readName(buf, pos) {
  const [len, start] = readU32(buf, pos);
  return [buf.subarray(start, start + len).toString("utf8"), start + len];
}

// Skips one import description (after the kind byte), returning its bytes.
function importDesc(buf, pos, kind) {
  const start = pos;
  const limits = () => {
    const flags = buf[pos++];
    [, pos] = readU32(buf, pos);
    if (flags & 1) [, pos] = readU32(buf, pos);
  };
  if (kind === 0) [, pos] = readU32(buf, pos); // function: type index
  else if (kind === 1) { pos += 1; limits(); } // table: reftype + limits (simple reftypes only)
  else if (kind === 2) limits(); // memory
  else if (kind === 3) pos += 2; // global: valtype + mutability (number/ref types)
  else if (kind === 4) { pos += 1; [, pos] = readU32(buf, pos); } // tag
  else fail(`unknown import kind ${kind}`);
  return [buf.subarray(start, pos), pos];
}

const SNIPPETS = "./snippets/";
const snippetModules = new Map(); // a snippet's path -> its short module name
const snippetImports = []; // [path, export name]
const importMap = new Map(); // old name -> short name
const exportMap = new Map();
const nextImport = shortNames();
const nextExport = shortNames();
const sections = [bytes.subarray(0, 8)];
let pos = 8;
while (pos < bytes.length) {
  const id = bytes[pos];
  const [size, bodyStart] = readU32(bytes, pos + 1);
  const bodyEnd = bodyStart + size;
  if (bodyEnd > bytes.length) fail("a wasm section runs past the end of the file");
  if (id === 2 || id === 7) {
    let p = bodyStart;
    let count;
    [count, p] = readU32(bytes, p);
    const parts = [writeU32(count)];
    for (let i = 0; i < count; i++) {
      if (id === 2) {
        let module, name, desc;
        [module, p] = readName(bytes, p);
        [name, p] = readName(bytes, p);
        const kind = bytes[p++];
        [desc, p] = importDesc(bytes, p, kind);
        if (module.startsWith(SNIPPETS)) {
          // A function of a hand-written module, imported by its own export
          // name: only the module's long path is shortened.
          if (!snippetModules.has(module)) snippetModules.set(module, `${SHORT_MODULE}${snippetModules.size + 1}`);
          snippetImports.push([module, name]);
          parts.push(encodeName(snippetModules.get(module)), encodeName(name), Buffer.from([kind]), desc);
          continue;
        }
        if (module !== GLUE_MODULE) fail(`import ${module}/${name} is neither from ${GLUE_MODULE} nor from a snippet`);
        if (importMap.has(name)) fail(`import ${name} appears twice`);
        importMap.set(name, nextImport());
        parts.push(encodeName(SHORT_MODULE), encodeName(importMap.get(name)), Buffer.from([kind]), desc);
      } else {
        let name, index;
        [name, p] = readName(bytes, p);
        const kind = bytes[p++];
        [index, p] = readU32(bytes, p);
        const short = name === "memory" ? name : nextExport();
        if (short === "memory") exportMap.set(name, name);
        else exportMap.set(name, short);
        parts.push(encodeName(short), Buffer.from([kind]), writeU32(index));
      }
    }
    if (p !== bodyEnd) fail(`section ${id} was not read to its end`);
    const body = Buffer.concat(parts);
    sections.push(Buffer.from([id]), writeU32(body.length), body);
  } else {
    sections.push(bytes.subarray(pos, bodyEnd));
  }
  pos = bodyEnd;
}
if (importMap.size === 0 || exportMap.size === 0) fail("the wasm has no imports or no exports: not a wasm-bindgen build?");
const newBytes = Buffer.concat(sections);

// --- the JS glue ---
const escape = (s) => s.replace(/[$]/g, "\\$&");
let glue = fs.readFileSync(gluePath, "utf8");
const moduleKey = `"${GLUE_MODULE}": import0`;
if (glue.split(moduleKey).length !== 2) fail(`the glue does not pass its imports as ${moduleKey}`);
glue = glue.replace(moduleKey, `"${SHORT_MODULE}": import0`);
for (const [module, short] of snippetModules) {
  // wasm-bindgen writes one namespace import per function, all under this key.
  const key = `"${module}": import`;
  if (!glue.includes(key)) fail(`the glue does not pass ${module} in its imports object`);
  glue = glue.replaceAll(key, `"${short}": import`);
}
for (const [old, short] of importMap) {
  // The keys of the imports object: `        <name>: function(`.
  const key = new RegExp(`^(\\s+)${escape(old)}(: function\\()`, "gm");
  const hits = glue.match(key)?.length ?? 0;
  if (hits !== 1) fail(`import ${old} is a key of the imports object ${hits} times, expected 1`);
  glue = glue.replace(key, (_, indent, rest) => indent + short + rest);
}
for (const [old, short] of exportMap) {
  glue = glue.replace(new RegExp(`\\bwasm\\.${escape(old)}\\b`, "g"), () => `wasm.${short}`);
  // Closure shims: the glue wraps each in a private function of the same long name.
  if (old.startsWith("wasm_bindgen_")) {
    glue = glue.replace(new RegExp(`(?<![.\\w$])${escape(old)}\\b`, "g"), () => `__wbg_shim_${short}`);
  }
}

// --- checks: the rewritten glue and wasm agree ---
const module = new WebAssembly.Module(newBytes); // throws if the rewrite broke the binary
const keys = new Set([...glue.matchAll(/^\s+([\w$]+): function\(/gm)].map((m) => m[1]));
const snippetKeys = new Set(snippetModules.values());
for (const imp of WebAssembly.Module.imports(module)) {
  if (snippetKeys.has(imp.module)) continue; // checked below
  if (imp.module !== SHORT_MODULE || !keys.has(imp.name)) fail(`wasm import ${imp.module}/${imp.name} has no function in the glue`);
}
for (const [file, name] of snippetImports) {
  const exports = await import(pathToFileURL(path.join(dir, file)).href);
  if (typeof exports[name] !== "function") fail(`the wasm imports ${name} from ${file}, which does not export that function`);
}
const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
for (const m of glue.matchAll(/\bwasm\.([\w$]+)/g)) {
  if (!exported.has(m[1])) fail(`the glue reads wasm.${m[1]}, which the wasm does not export`);
}
// Public names (`classifyQuality`) stay in the glue as its own exports; the
// hashed import names and the closure shims must be gone.
for (const old of [...importMap.keys(), ...[...exportMap.keys()].filter((n) => n.startsWith("wasm_bindgen_"))]) {
  if (new RegExp(`(?<![\\w$])${escape(old)}(?![\\w$])`).test(glue)) fail(`the old name ${old} is still in the glue`);
}

// --- the .d.ts files: InitOutput / the raw module's exports ---
const dts = [];
for (const file of dtsPaths) {
  if (!fs.existsSync(file)) continue;
  let text = fs.readFileSync(file, "utf8");
  for (const [old, short] of exportMap) {
    text = text.replace(new RegExp(`^(\\s*(?:readonly|export const) )${escape(old)}:`, "gm"), (_, head) => `${head}${short}:`);
  }
  dts.push([file, text]);
}

fs.writeFileSync(wasmPath, newBytes);
fs.writeFileSync(gluePath, glue);
for (const [file, text] of dts) fs.writeFileSync(file, text);
console.log(`shorten-names: ${importMap.size} imports and ${exportMap.size - 1} exports renamed (memory kept), ${snippetModules.size} snippet paths shortened`);
