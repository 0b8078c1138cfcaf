// Splits the single-thread engine in two (a build step: wasm/wasm.cmake runs it after each link), so that a page
// that only loads and runs a model downloads only the code that does:
//
//   <name>.wasm            the primary module: what loading a tinylm model file and generating from it, evaluating
//                          it, inspecting it and exporting it run (wasm/split_profile.mjs records which functions
//                          those are), with all the engine's data and its Embind registrations
//   <name>.deferred.wasm   every other function (training, LoRA adapters, Hugging Face checkpoints, models created
//                          from scratch), fetched and instantiated the first time one of them is called
//
// binaryen's wasm-split moves the functions the profile did not see into the deferred module and leaves in their
// table slots imports from "placeholder"; Emscripten's SPLIT_MODULE glue answers a call to one by calling its
// Module.loadSplitModule, which the package gives (web/lib/deferred_engine.ts): it instantiates the deferred
// module once, over the primary's memory and table, which fills those slots, and the call continues. Nothing else
// changes: the same instructions run, in the same order, with the same results.
//
//   node wasm/split_engine.mjs <glue.js> <linked .wasm.orig> <models dir> <out primary.wasm> [--relaxed]
//
// The .wasm.orig is the whole engine as Emscripten linked it (with -sSPLIT_MODULE it leaves the engine there and
// an instrumented copy in the .wasm, which this does not use). The profile is recorded on the engine itself, so
// each engine is split by its own run. --relaxed: the engine is a relaxed SIMD one as clang 14 links it, with the
// prototype opcode wasm/relaxed_madd.mjs re-encodes. Binaryen 108 reads only that opcode and Node only the standard
// one, so the instrumented copy is re-encoded to run, the prototype engine is split, and both parts are re-encoded
// (the profile names functions by index, which re-encoding leaves as they are). Its profile runs in a Node told to
// validate relaxed SIMD where it does not by default (Node 20).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [glue, whole, models, primary, relaxed] = process.argv.slice(2);
if (!primary || !primary.endsWith('.wasm') || (relaxed !== undefined && relaxed !== '--relaxed')) {
  console.error('usage: node wasm/split_engine.mjs <glue.js> <linked .wasm.orig> <models dir> <out primary.wasm> [--relaxed]');
  process.exit(2);
}
// A module of one function holding one f32x4.relaxed_madd (0xfd 0x85 0x02) of three zero vectors.
const v128Zero = [0xfd, 12, ...new Array(16).fill(0)];
const relaxedMaddProbe = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 61, 1, 59, 0, ...v128Zero, ...v128Zero, ...v128Zero, 0xfd, 0x85, 0x02, 11]);
const nodeFlags = relaxed && !WebAssembly.validate(relaxedMaddProbe) ? ['--experimental-wasm-relaxed-simd'] : [];
const deferred = primary.replace(/[.]wasm$/, '.deferred.wasm');
// The engine's instructions beyond the MVP: SIMD, exceptions, bulk memory, sign extension, saturating conversions.
const features = ['--all-features'];
const work = mkdtempSync(join(tmpdir(), 'tinylm-split-'));
const run = (command, args) => execFileSync(command, args, { stdio: 'inherit' });
const reencode = (input, output, ...flags) =>
  run(process.execPath, [new URL('./relaxed_madd.mjs', import.meta.url).pathname, input, output, 'wasm-dis', ...flags]);
try {
  const instrumented = join(work, 'instrumented.wasm');
  const profile = join(work, 'engine.profile');
  run('wasm-split', [...features, '--instrument', whole, '-o', instrumented]);
  if (relaxed) reencode(instrumented, instrumented);
  run(process.execPath, [...nodeFlags, new URL('./split_profile.mjs', import.meta.url).pathname, glue, instrumented,
    models, profile]);
  // --export-prefix: the primary's new exports (what the deferred module calls back into) get names no export of
  // Emscripten's minified glue has.
  const [splitPrimary, splitDeferred] = relaxed ? [join(work, 'primary.wasm'), join(work, 'deferred.wasm')] : [primary, deferred];
  run('wasm-split', [...features, whole, `--profile=${profile}`, '--export-prefix=%', '-o1', splitPrimary, '-o2', splitDeferred]);
  if (relaxed) {
    reencode(splitPrimary, primary, '--part');
    reencode(splitDeferred, deferred, '--part');
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
