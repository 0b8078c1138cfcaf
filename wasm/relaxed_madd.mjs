// Re-encodes the fused multiply-adds of a relaxed engine (wasm/wasm.cmake links it from the core built with
// -mrelaxed-simd) from the relaxed SIMD proposal's 2021 prototype opcode, which current engines reject, to the
// standard one. A build step: the relaxed engines ship only as this script's output.
//
//   node wasm/relaxed_madd.mjs in.wasm out.wasm [wasm-dis]
//
// Emscripten 3.1.6's clang 14 emits __builtin_wasm_fma_f32x4(x, y, z) as `f32x4.relaxed_fma` (0xfd, LEB 0xaf 0x01),
// the prototype computing x + y·z. The standard `f32x4.relaxed_madd` (0xfd, LEB 0x85 0x02) takes the same three
// operands and computes x·y + z. The kernels' relaxed multiply_add (native/src/kernels/simd.hpp) calls the builtin
// with its operands in the standard order, (a, b, c) for a·b + c, so only the opcode changes: the same length, at
// the same place, nothing moves. Neither clang 14 nor binaryen 108 folds the builtin (it stays an opaque intrinsic;
// every one written survives), which the count below checks against binaryen's own reading of the module (its
// wasm-dis, the toolchain's: 108 reads the prototype opcode). A module with none is refused: the build linked the
// standard kernels by mistake.
//
// The code section is decoded instruction by instruction (the opcodes this engine uses: MVP, sign extension,
// saturating truncation, bulk memory, SIMD, exceptions, atomics), so only real opcodes are rewritten, never an
// immediate or a data byte that happens to match; anything unknown stops the rewrite. Other sections are copied.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

// --part: the module is one of a split engine's two (wasm/split_engine.mjs), which may hold none; the whole engine
// was checked before it was split.
const part = process.argv.includes('--part');
const [input, output, wasmDis = 'wasm-dis'] = process.argv.slice(2).filter((arg) => arg !== '--part');
if (!input || !output) {
  console.error('usage: node wasm/relaxed_madd.mjs in.wasm out.wasm [wasm-dis] [--part]');
  process.exit(2);
}
const bytes = readFileSync(input);
let at = 0;
const fail = (what) => { throw new Error(`${input}: ${what} at byte ${at}`); };
const u32 = () => {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return value;
    if (shift > 63) fail('an overlong LEB128');
  }
};
const skip = (n) => { at += n; };
const memarg = () => { u32(); u32(); };
const blockType = () => {  // 0x40 (empty), one value type byte, or a type index as s33
  if (bytes[at] === 0x40 || (bytes[at] >= 0x6f && bytes[at] <= 0x7f)) skip(1);
  else u32();
};

// The immediates after each prefix's sub-opcode; an absent entry has none.
function prefixed0xfc(op) {  // saturating truncation 0–7, bulk memory and tables 8–17
  if (op <= 7) return;
  if (op === 8) { u32(); skip(1); } else if (op === 9 || op === 13) u32();
  else if (op === 10) skip(2);
  else if (op === 11) skip(1);
  else if (op === 12 || op === 14) { u32(); u32(); } else if (op >= 15 && op <= 17) u32();
  else fail(`unknown 0xfc ${op}`);
}
function prefixed0xfd(op) {  // SIMD
  if (op <= 11 || op === 92 || op === 93) memarg();  // loads, store, load32/64_zero
  else if (op === 12 || op === 13) skip(16);  // v128.const, i8x16.shuffle
  else if (op >= 21 && op <= 34) skip(1);  // extract/replace lane
  else if (op >= 84 && op <= 91) { memarg(); skip(1); }  // load/store lane
}
function prefixed0xfe(op) {  // atomics
  if (op === 3) skip(1);  // atomic.fence
  else memarg();
}

const prototypeFma = 0xaf;  // 0xfd, LEB 0xaf 0x01
const standardMadd = [0x85, 0x02];  // 0xfd, LEB 0x85 0x02 = 261
const sites = [];
function instructions(end) {
  while (at < end) {
    const op = bytes[at++];
    if (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06) blockType();  // block loop if try
    else if (op === 0x0c || op === 0x0d || op === 0x10 || (op >= 0x07 && op <= 0x09) || op === 0x18) u32();
    else if (op === 0x0e) { for (let n = u32() + 1; n > 0; --n) u32(); }  // br_table: labels and default
    else if (op === 0x11) { u32(); u32(); }  // call_indirect
    else if (op === 0x1c) { skip(u32()); }  // typed select
    else if (op >= 0x20 && op <= 0x26) u32();  // locals, globals, tables
    else if (op >= 0x28 && op <= 0x3e) memarg();
    else if (op === 0x3f || op === 0x40) skip(1);
    else if (op === 0x41 || op === 0x42) u32();  // i32/i64.const (signed LEB: the same byte count)
    else if (op === 0x43) skip(4);
    else if (op === 0x44) skip(8);
    else if (op === 0xd0) skip(1);
    else if (op === 0xd2) u32();
    else if (op === 0xfc) prefixed0xfc(u32());
    else if (op === 0xfe) prefixed0xfe(u32());
    else if (op === 0xfd) {
      const start = at;
      const sub = u32();
      if (sub === prototypeFma && at - start === 2) sites.push(start);
      else if (sub >= 0x100) fail(`SIMD opcode ${sub}: already relaxed SIMD's standard encoding`);
      prefixed0xfd(sub);
    } else if (!(op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x19 || op === 0x1a || op === 0x1b ||
                 (op >= 0x45 && op <= 0xc4) || op === 0xd1)) {
      fail(`unknown opcode 0x${op.toString(16)}`);
    }
  }
  if (at !== end) fail('an instruction running past its function');
}

if (bytes.readUInt32LE(0) !== 0x6d736100 || bytes.readUInt32LE(4) !== 1) fail('not a wasm module');
at = 8;
while (at < bytes.length) {
  const id = bytes[at++];
  const size = u32();
  const end = at + size;
  if (id === 10) {
    for (let functions = u32(); functions > 0; --functions) {
      const bodyEnd = u32() + at;
      for (let groups = u32(); groups > 0; --groups) { u32(); skip(1); }  // locals: count, value type
      instructions(bodyEnd);
    }
  }
  at = end;
}

// Binaryen 108 reads the prototype encoding: its count of relaxed_fma must be the count found here.
const text = execFileSync(wasmDis, [input], { encoding: 'utf8', maxBuffer: 1 << 30 });
const expected = (text.match(/\(f32x4\.relaxed_fma\b/g) ?? []).length;
if (expected !== sites.length) throw new Error(`${input}: ${wasmDis} reads ${expected} f32x4.relaxed_fma, the decoder found ${sites.length}`);
if (sites.length === 0 && !part) throw new Error(`${input}: no f32x4.relaxed_fma to re-encode (was the core built with -mrelaxed-simd?)`);
const others = text.match(/\b(f32x4\.relaxed_fms|f64x2\.relaxed_fm[as]|[if]\d+x\d+\.(relaxed_(?!fma\b)[a-z_0-9]+|laneselect)|i32x4\.dot_i8x16_i7x16\w*)/);
if (others) throw new Error(`${input} uses ${others[0]}, which this rewrite does not translate`);

const out = Buffer.from(bytes);
for (const site of sites) out.set(standardMadd, site);
writeFileSync(output, out);
console.error(`${output}: ${sites.length} f32x4.relaxed_fma → f32x4.relaxed_madd`);
