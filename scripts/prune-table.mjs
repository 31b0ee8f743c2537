// Removes from the wasm's function table the entries that wasm-bindgen's
// output keeps alive but nothing can call, so that wasm-opt can then delete
// the functions themselves.
//
//   node scripts/prune-table.mjs <file.wasm>   (a wasm-bindgen output that still has its names)
//
// Why they are there: every closure type any linked crate mentions (js-sys
// declares dozens: typed-array callbacks, `Array.prototype.map`'s, JSPI's
// task waker...) gets an invoke shim whose address a descriptor function
// takes. The wasm-bindgen CLI reads the descriptors and deletes them, but
// leaves the table entries they created, and a table entry keeps a function
// alive: wasm-opt cannot know that no `call_indirect` ever picks it.
//
// Which entries are dead, and why that holds:
// - `wasm_bindgen::convert::closures::_::invoke::<...>`: the glue calls a
//   closure through the invoke shim's *export* (`makeClosure(a, b, wasm.<export>)`),
//   never through the table, and Rust code takes a shim's address only in a
//   descriptor. The shims a closure of ours uses stay alive as exports.
// - `js_sys::futures::jspi::*`: the JSPI executor's waker, reachable only
//   from tasks spawned inside a `#[wasm_bindgen(jspi)]` export; the crate has
//   neither futures nor such exports (checked below: no import or export
//   mentions jspi).
// Each dead entry is pointed at one function that traps (its index, which
// vtables in the data may hold, stays where it is). The tests run against
// the pruned package, so a wrong guess here fails them.
import fs from "node:fs";
import binaryen from "binaryen";

const file = process.argv[2];
if (!file) fail("usage: node scripts/prune-table.mjs <file.wasm>");

const DEAD = [/::convert::closures::_::invoke::</, /^js_sys\[?[0-9a-f]*\]?::futures::jspi::/];
const isDead = (name) => DEAD.some((pattern) => pattern.test(name));

binaryen.setDebugInfo(true); // keep reading and writing the names this relies on
const module = binaryen.readBinary(fs.readFileSync(file));
// The features build.sh's wasm-opt runs enable, no more (others change how
// the binary is written: e.g. strings as stringref, which browsers reject).
const F = binaryen.Features;
module.setFeatures(
  F.MutableGlobals | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt | F.SignExt | F.ReferenceTypes | F.CallIndirectOverlong | F.Multivalue,
);

const boundary = [];
for (let i = 0; i < module.getNumExports(); i++) boundary.push(binaryen.getExportInfo(module.getExportByIndex(i)).name);
for (let i = 0; i < module.getNumFunctions(); i++) {
  const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
  if (info.module) boundary.push(info.base);
}
if (boundary.some((name) => /jspi/i.test(name))) fail("the module uses JSPI: its waker is not dead");

const TRAP = "table_entry_nothing_calls";
module.addFunction(TRAP, binaryen.none, binaryen.none, [], module.unreachable());
let pruned = 0;
const segments = [];
for (let i = 0; i < module.getNumElementSegments(); i++) segments.push(binaryen.getElementSegmentInfo(module.getElementSegmentByIndex(i)));
for (const segment of segments) {
  if (!segment.table) continue; // passive: not in the table
  const dead = segment.data.filter(isDead).length;
  if (dead === 0) continue; // e.g. the externref table's segment of a stable build
  pruned += dead;
  const data = segment.data.map((name) => (isDead(name) ? TRAP : name));
  module.removeElementSegment(segment.name);
  // `offset` is the offset's expression; the segment stays where it was.
  const { value } = binaryen.getExpressionInfo(segment.offset);
  if (typeof value !== "number") fail(`segment ${segment.name} has an offset that is not a constant`);
  module.addActiveElementSegment(segment.table, segment.name, data, module.i32.const(value));
}
if (pruned === 0) fail("no dead table entry found: names missing, or wasm-bindgen changed how it keeps closures");
if (!module.validate()) fail("the pruned module does not validate");
fs.writeFileSync(file, module.emitBinary());
console.log(`prune-table.mjs: ${pruned} table entries nothing calls now trap`);

function fail(message) {
  console.error(`prune-table.mjs: ${message}`);
  process.exit(1);
}
