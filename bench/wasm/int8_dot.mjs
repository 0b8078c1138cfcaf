// node bench/wasm/int8_dot.mjs — what one integer dot-product instruction is worth in headless Chromium's V8 on this
// machine: WASM SIMD's i32x4.dot_i16x8_s + i32x4.add (8 multiply-adds, what the int8 product's tiles run:
// kernels/simd.hpp dot_add) against relaxed SIMD's i32x4.relaxed_dot_i8x16_i7x16_add_s (16 multiply-adds, exact only
// where the second operand's bytes are in [0, 127]). Each is timed in a loop of 12 independent accumulators, so the
// engine's throughput, not one instruction's latency, bounds it; the modules are assembled here, as no toolchain in
// the build emits the relaxed instruction (clang 14 has no builtin for it).
//
// Prints one JSON line: for each, the best of 5 runs in ms, multiply-adds per ns, and ns per instruction.
// Measured (Chromium 156, AMD EPYC Zen 4, which has AVX-512 VNNI but not the AVX-VNNI V8 would lower the relaxed dot
// to; three runs at load 8): dot_i16x8_s + add 22-39 multiply-adds/ns (0.21-0.36 ns per pair), relaxed_dot 30-40
// (0.40-0.54 ns per instruction); with 8 accumulators, relaxed_dot 18-25 against 19-40. No more multiply-adds per ns
// here, and it would need the activations in 7 bits, so the int8 product keeps dot_i16x8_s in both engines.
import { launchBrowser } from '../../tests/e2e/helpers.mjs';

const leb = (n) => {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
};
const simd = (op) => [0xfd, ...leb(op)];
const ACCUMULATORS = 12;

// (func (param n i32) (result i32)): locals 1 … 12 the accumulators, 13 and 14 two vectors loaded from memory; each
// iteration updates every accumulator once; the result is lane 0 of their sum, so nothing is dead.
function module(relaxed) {
  const a = ACCUMULATORS + 1, w = ACCUMULATORS + 2;
  const body = [0x41, 0, ...simd(0), 4, 0, 0x21, a, 0x41, 16, ...simd(0), 4, 0, 0x21, w, 0x03, 0x40];
  for (let i = 1; i <= ACCUMULATORS; ++i) {
    // relaxed: acc = relaxed_dot_add(w, a, acc); standard: acc = add(acc, dot(acc, w)) — acc as an operand, so the
    // engine cannot share one product between the accumulators.
    if (relaxed) body.push(0x20, w, 0x20, a, 0x20, i, ...simd(0x113), 0x21, i);
    else body.push(0x20, i, 0x20, i, 0x20, w, ...simd(186), ...simd(174), 0x21, i);
  }
  body.push(0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b, 0x20, 1);  // n -= 1; br_if n; end loop
  for (let i = 2; i <= ACCUMULATORS; ++i) body.push(0x20, i, ...simd(174));
  body.push(...simd(27), 0, 0x0b);  // i32x4.extract_lane 0
  const func = [1, ...leb(ACCUMULATORS + 2), 0x7b, ...body];
  const section = (id, bytes) => [id, ...leb(bytes.length), ...bytes];
  return [0, 97, 115, 109, 1, 0, 0, 0, ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7f]), ...section(3, [1, 0]),
    ...section(5, [1, 0, 1]), ...section(7, [1, 1, 0x66, 0, 0]), ...section(10, [1, ...leb(func.length), ...func])];
}

const browser = await launchBrowser();  // the tests' Chromium, with their flags
try {
  const page = await browser.newPage();
  const results = await page.evaluate(async ({ modules, accumulators }) => {
    const out = {};
    for (const [name, bytes] of Object.entries(modules)) {
      const wasm = new Uint8Array(bytes);
      if (!WebAssembly.validate(wasm)) {
        out[name] = 'not valid here';
        continue;
      }
      const { exports } = (await WebAssembly.instantiate(wasm)).instance;
      exports.f(10000);  // tier up
      const iterations = 10_000_000, perInstruction = name === 'relaxed_dot_i8x16_i7x16_add_s' ? 16 : 8;
      let best = Infinity;
      for (let run = 0; run < 5; ++run) {
        const start = performance.now();
        exports.f(iterations);
        best = Math.min(best, performance.now() - start);
      }
      const instructions = iterations * accumulators;
      out[name] = {
        ms: +best.toFixed(1),
        multiply_adds_per_ns: +((instructions * perInstruction) / (best * 1e6)).toFixed(1),
        ns_per_instruction: +((best * 1e6) / instructions).toFixed(3),
      };
    }
    return out;
  }, {
    modules: { dot_i16x8_s_add: module(false), relaxed_dot_i8x16_i7x16_add_s: module(true) },
    accumulators: ACCUMULATORS,
  });
  console.log(JSON.stringify({ chromium: browser.version(), ...results }));
} finally {
  await browser.close();
}
