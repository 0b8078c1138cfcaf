// The wasm engine really runs SIMD128 in its hot loops: disassembles build-wasm/wasm/tinylm_wasm.wasm.orig (the
// single-thread engine whole, as linked, before wasm/split_engine.mjs splits it in two) with
// binaryen's wasm-dis and fails if the GEMM or LSTM/GRU gate kernels hold no f32x4 instruction (a build that lost
// -msimd128, or an xsimd path that fell back to scalar code, still computes the right numbers — only slower — so
// no numeric test would notice).
//
// The shipped .wasm carries no names; the build's --emit-symbol-map (tinylm_wasm.js.symbols, "index:name" over
// the whole function index space, imports first) names them. wasm-dis calls imports $fimport$N and defined
// functions $N counted from the first defined one.
//
// binaryen's -O3 inlines a function with a single caller into it, and keeps a shared one apart (the three GEMM
// entry points are thin wrappers around the shared blocked product), so each kernel lists every function its code
// may live in, and the f32x4 instructions of all of them count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const buildDir = fileURLToPath(new URL('../../build-wasm/wasm/', import.meta.url));
const wasmPath = `${buildDir}tinylm_wasm.wasm.orig`;
const symbolsPath = `${buildDir}tinylm_wasm.js.symbols`;

const kernels = [
  ...['sgemm_nn', 'sgemm_nt', 'sgemm_tn', 'sgemm_packed'].map((kernel) => ({
    kernel,
    homes: [`tinylm::${kernel}`, 'tinylm::gemm_dispatch', 'tinylm::gemm_packed', 'tinylm::gemm_prepacked_few_rows'],
  })),
  { kernel: 'sgemv', homes: ['tinylm::sgemv'] },
  { kernel: 'lstm_gates_forward', homes: ['tinylm::lstm_gates_forward', 'tinylm::recurrent_forward'] },
  { kernel: 'gru_gates_forward', homes: ['tinylm::gru_gates_forward', 'tinylm::recurrent_forward'] },
  { kernel: 'lstm_gates_backward', homes: ['tinylm::lstm_gates_backward', 'tinylm::recurrent_backward'] },
  { kernel: 'gru_gates_backward', homes: ['tinylm::gru_gates_backward', 'tinylm::recurrent_backward'] },
];

// "tinylm::sgemm_nt\28float*\2c..." → "tinylm::sgemm_nt": the symbol map escapes punctuation as \XX. Anonymous
// namespaces, a template's return type and its arguments go too: "void tinylm::(anonymous namespace)::gemm_packed<
// tinylm::(anonymous namespace)::Tile<3, 3> >(…)" → "tinylm::gemm_packed".
function baseName(symbol) {
  const unescaped = symbol.replace(/\\([0-9a-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  const name = unescaped.replaceAll('(anonymous namespace)::', '').split('(')[0];
  return name.replace(/^(auto |void )+/, '').replace(/<.*$/, '');
}

function disassembleFunctions() {
  const text = execFileSync('wasm-dis', [wasmPath], { maxBuffer: 256 << 20 }).toString();
  const importCount = (text.match(/^ \(import "[^"]*" "[^"]*" \(func /gm) ?? []).length;
  const bodies = new Map();  // defined-function index → its text
  const starts = [...text.matchAll(/^ \(func \$(\d+) /gm)];
  starts.forEach((match, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].index : text.length;
    bodies.set(Number(match[1]), text.slice(match.index, end));
  });
  return { importCount, bodies };
}

test('the GEMM and recurrent gate kernels of the wasm build use f32x4 (SIMD128) instructions', (t) => {
  assert.ok(existsSync(wasmPath), `${wasmPath} is missing: run npm run build:wasm`);
  assert.ok(existsSync(symbolsPath), `${symbolsPath} is missing: the wasm build must pass --emit-symbol-map`);
  const indicesByName = new Map();  // a template's instantiations share one name
  for (const line of readFileSync(symbolsPath, 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = baseName(line.slice(colon + 1));
    indicesByName.set(name, [...(indicesByName.get(name) ?? []), Number(line.slice(0, colon))]);
  }
  const { importCount, bodies } = disassembleFunctions();

  for (const { kernel, homes } of kernels) {
    const present = homes.filter((name) => indicesByName.has(name));
    assert.ok(present.length > 0, `kernel ${kernel}: none of ${homes.join(', ')} is in the wasm build`);
    let simdCount = 0;
    for (const home of present) {
      for (const index of indicesByName.get(home)) {
        const body = bodies.get(index - importCount);
        assert.ok(body, `kernel ${kernel}: ${home} has no body in the disassembly`);
        simdCount += (body.match(/\bf32x4\./g) ?? []).length;
      }
    }
    t.diagnostic(`${kernel} (in ${present.join(', ')}): ${simdCount} f32x4 instructions`);
    assert.ok(simdCount > 0, `kernel ${kernel} (in ${present.join(', ')}) has no f32x4 instruction: the SIMD path is not in use`);
  }
});
