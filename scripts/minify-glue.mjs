// Minifies the JS glue (pkg/ice_peer.js, and the snippets it imports) with terser: -2.7 KB gzipped after
// shorten-names. Class names are kept (`Peer.name`, stack traces and the
// console still say Peer / PeerManager); the `@ts-self-types` comment that
// points Deno/JSR at the .d.ts is kept. The JSDoc lives on in ice_peer.d.ts.
//
//   node scripts/minify-glue.mjs pkg
//
// Fails (exit 1, file left as it was) unless the minified module exports the
// same names, with the same kinds and class names, as the original.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { minify } from "terser";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/minify-glue.mjs <pkg dir>");
  process.exit(1);
}
// The public surface: export name -> kind (and name for classes/functions).
// The copy is imported from beside `file`, so that its relative imports (the
// snippets) resolve.
let checks = 0;
async function surface(code, file) {
  const copy = `${file}.check-${process.pid}-${checks++}.mjs`;
  fs.writeFileSync(copy, code);
  try {
    const mod = await import(pathToFileURL(copy).href);
    return Object.keys(mod)
      .sort()
      .map((key) => {
        const value = mod[key];
        const isClass = typeof value === "function" && /^class\b/.test(Function.prototype.toString.call(value));
        return `${key}: ${isClass ? `class ${value.name}` : typeof value}`;
      })
      .join("\n");
  } finally {
    fs.rmSync(copy, { force: true });
  }
}

// Minifies one module in place, or exits 1 leaving it as it was.
async function minifyModule(file, options) {
  const source = fs.readFileSync(file, "utf8");
  const result = await minify(source, { module: true, compress: { passes: 2 }, mangle: true, ...options });
  if (typeof result.code !== "string") {
    console.error(`minify-glue: terser returned no code for ${file}`);
    process.exit(1);
  }
  const before = await surface(source, file);
  const after = await surface(result.code, file);
  if (before !== after) {
    console.error(`minify-glue: the exports of ${file} changed\n--- before\n${before}\n--- after\n${after}`);
    process.exit(1);
  }
  fs.writeFileSync(file, `${result.code}\n`);
  console.log(`minify-glue: ${path.relative(dir, file)} ${source.length} -> ${result.code.length + 1} bytes, exports unchanged (${before.split("\n").length})`);
}

await minifyModule(path.join(dir, "ice_peer.js"), {
  keep_classnames: true,
  format: { comments: /@ts-self-types/ },
});
// The hand-written modules the glue imports (src/web/js/ → snippets/): their
// comments are for contributors, not for every app that ships them.
const snippets = path.join(dir, "snippets");
for (const entry of fs.existsSync(snippets) ? fs.readdirSync(snippets, { recursive: true, withFileTypes: true }) : []) {
  if (entry.isFile() && entry.name.endsWith(".js")) await minifyModule(path.join(entry.parentPath ?? entry.path, entry.name), {});
}
