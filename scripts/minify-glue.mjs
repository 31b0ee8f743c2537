// Minifies the JS glue (pkg/ice_peer.js) with terser: -2.7 KB gzipped after
// shorten-names. Class names are kept (`Peer.name`, stack traces and the
// console still say Peer / PeerManager); the `@ts-self-types` comment that
// points Deno/JSR at the .d.ts is kept. The JSDoc lives on in ice_peer.d.ts.
//
//   node scripts/minify-glue.mjs pkg
//
// Fails (exit 1, file left as it was) unless the minified module exports the
// same names, with the same kinds and class names, as the original.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { minify } from "terser";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/minify-glue.mjs <pkg dir>");
  process.exit(1);
}
const gluePath = path.join(dir, "ice_peer.js");
const source = fs.readFileSync(gluePath, "utf8");
const result = await minify(source, {
  module: true,
  compress: { passes: 2 },
  mangle: true,
  keep_classnames: true,
  format: { comments: /@ts-self-types/ },
});
if (typeof result.code !== "string") {
  console.error("minify-glue: terser returned no code");
  process.exit(1);
}

// The public surface: export name -> kind (and name for classes/functions).
async function surface(code) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ice-peer-glue-"));
  try {
    const file = path.join(tmp, "glue.mjs");
    fs.writeFileSync(file, code);
    const mod = await import(pathToFileURL(file).href);
    return Object.keys(mod)
      .sort()
      .map((key) => {
        const value = mod[key];
        const isClass = typeof value === "function" && /^class\b/.test(Function.prototype.toString.call(value));
        return `${key}: ${isClass ? `class ${value.name}` : typeof value}`;
      })
      .join("\n");
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
const before = await surface(source);
const after = await surface(result.code);
if (before !== after) {
  console.error(`minify-glue: the exports changed\n--- before\n${before}\n--- after\n${after}`);
  process.exit(1);
}
fs.writeFileSync(gluePath, `${result.code}\n`);
console.log(`minify-glue: ${source.length} -> ${result.code.length + 1} bytes, exports unchanged (${before.split("\n").length})`);
