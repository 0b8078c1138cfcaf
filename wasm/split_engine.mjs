// Splits an engine in two (a build step: wasm/wasm.cmake runs it after each link), so that a page that only loads
// and runs a model downloads only the code that does:
//
//   <name>.wasm            the primary module: what loading a tinylm model file and generating from it, evaluating
//                          and inspecting it run (wasm/split_profile.mjs records which functions those are), with
//                          all the engine's data and its Embind registrations, and a custom section
//                          "tinylm.deferred" naming the file below (for the threaded engine's pthreads, which have
//                          no other way to tell which engine they run)
//   <name>.deferred.wasm   every other function (training, LoRA adapters, Hugging Face checkpoints, models created
//                          from scratch, beam search, export), fetched and instantiated the first time one of them
//                          is called
//
// binaryen's wasm-split moves the functions the profile did not see into the deferred module and leaves in their
// table slots imports from "placeholder"; Emscripten's SPLIT_MODULE glue answers a call to one by calling its
// Module.loadSplitModule, which the package gives (web/lib/deferred_engine.ts): it instantiates the deferred
// module once, over the primary's memory and table, which fills those slots, and the call continues. Nothing else
// changes: the same instructions run, in the same order, with the same results.
//
//   node wasm/split_engine.mjs <glue> <linked .wasm.orig> <models dir> <out primary.wasm> [--relaxed]
//                              [--threads <pthread script>]
//
// The .wasm.orig is the whole engine as Emscripten linked it (with -sSPLIT_MODULE it leaves the engine there and
// an instrumented copy in the .wasm, which this does not use). The profile is recorded on the engine itself, so
// each engine is split by its own run.
// --relaxed: the engine is a relaxed SIMD one as clang 14 links it, with the prototype opcode wasm/relaxed_madd.mjs
// re-encodes. Binaryen 108 reads only that opcode and Node only the standard one, so the instrumented copy is
// re-encoded to run, the prototype engine is split, and both parts are re-encoded (the profile names functions by
// index, which re-encoding leaves as they are). Its profile runs in a Node told to validate relaxed SIMD where it
// does not by default (Node 20).
// --threads: the threaded engine, run on 2 threads; its instrumentation records in memory (one byte per function
// from address 0, below the engine's data: -sGLOBAL_BASE) so that what only its pthreads run is seen too. Its
// primary also keeps every kernel function and the thread pool the profile did not see (by their names in
// the engine's symbol map): a pthread cannot fetch the deferred module in a browser, only take it from the engine's
// thread (web/lib/deferred_engine.ts), which reads it when it first calls into it — always before a parallel region
// of training, LoRA, a Hugging Face model or beam search, whose set-up is the deferred module's, but not before a
// region of a model file's inference whose shape reached a kernel the shipped models did not.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

const args = process.argv.slice(2);
const [glue, whole, models, primary] = args;
const relaxed = args.includes('--relaxed');
const pthreadScript = args.includes('--threads') ? args[args.indexOf('--threads') + 1] : undefined;
if (!primary || !primary.endsWith('.wasm') || (args.includes('--threads') && !pthreadScript)) {
  console.error('usage: node wasm/split_engine.mjs <glue> <linked .wasm.orig> <models dir> <out primary.wasm> [--relaxed] ' +
    '[--threads <pthread script>]');
  process.exit(2);
}
// A module of one function holding one f32x4.relaxed_madd (0xfd 0x85 0x02) of three zero vectors.
const v128Zero = [0xfd, 12, ...new Array(16).fill(0)];
const relaxedMaddProbe = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 61, 1, 59, 0, ...v128Zero, ...v128Zero, ...v128Zero, 0xfd, 0x85, 0x02, 11]);
const nodeFlags = relaxed && !WebAssembly.validate(relaxedMaddProbe) ? ['--experimental-wasm-relaxed-simd'] : [];
const deferred = primary.replace(/[.]wasm$/, '.deferred.wasm');
// The engine's instructions beyond the MVP: SIMD, exceptions, bulk memory, sign extension, saturating conversions,
// atomics.
const features = ['--all-features'];

// A custom section (id 0): its name and contents, each as a length and its UTF-8 bytes.
function customSection(name, text) {
  const leb = (value) => {
    const bytes = [];
    do {
      bytes.push((value & 0x7f) | (value >= 0x80 ? 0x80 : 0));
      value >>>= 7;
    } while (value > 0);
    return bytes;
  };
  const encode = (string) => [...leb(Buffer.byteLength(string)), ...Buffer.from(string)];
  const body = [...encode(name), ...Buffer.from(text)];
  return Buffer.from([0, ...leb(body.length), ...body]);
}

// How many functions a module imports and defines (its import and function sections).
function functionCounts(bytes) {
  let at = 8;
  const u32 = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return value;
    }
  };
  const counts = { imported: 0, defined: 0 };
  while (at < bytes.length) {
    const id = bytes[at++];
    const end = u32() + at;
    if (id === 2) {
      for (let count = u32(); count > 0; --count) {
        at += u32();  // module name
        at += u32();  // field name
        const kind = bytes[at++];
        if (kind === 0) { u32(); counts.imported += 1; }  // function: type index
        else if (kind === 1) { at += 1; if (u32() & 1) u32(); u32(); }  // table: element type, limits
        else if (kind === 2) { if (u32() & 1) u32(); u32(); }  // memory: limits
        else if (kind === 3) at += 2;  // global: type, mutability
        else if (kind === 4) { at += 1; u32(); }  // tag
      }
    } else if (id === 3) {
      counts.defined = u32();
    }
    at = end;
  }
  return counts;
}

// The in-memory profile takes a byte per function from address 0: it must end below the engine's first data.
function checkProfileFits(module) {
  const { imported, defined } = functionCounts(readFileSync(module));
  const base = 4096;  // -sGLOBAL_BASE of the threaded engines (wasm/wasm.cmake)
  if (imported + defined >= base) throw new Error(`${module}: ${imported + defined} functions do not fit below the engine's data at ${base}`);
}

// The kernels and the thread pool, by the name of the function (before its parameters): what a pthread's tasks run
// while a model runs, in variants (tiles, edges) a shape the profile's models did not have may reach. The rest of a
// model's forward pass runs on the engine's thread first (deferred there, it is read there).
const kPthreadCode = /^(\w+ )?tinylm::[^(]*(gemm|gemv|matrix|panel|pack|q8|quantiz|attention|layernorm|softmax|gelu|lstm|gru|gates|activation|dot|axpy|scale|Tile<|ThreadPool|parallel_for)/i;

// The names wasm-split gives the defined functions of a module without a name section (their index among them) that
// the symbol map (index over imports and definitions → name) calls pthread code.
function pthreadFunctionNames(module, symbols) {
  const imports = functionCounts(readFileSync(module)).imported;
  const names = [];
  for (const line of readFileSync(symbols, 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    const index = Number(line.slice(0, colon));
    // The map escapes characters as \xx (hex); "(anonymous namespace)::" says nothing of what a function does.
    const name = line.slice(colon + 1).replace(/\\([0-9a-f]{2})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16)))
      .replaceAll('(anonymous namespace)::', '');
    if (index >= imports && kPthreadCode.test(name)) names.push(String(index - imports));
  }
  return names;
}
const work = mkdtempSync(join(tmpdir(), 'tinylm-split-'));
const run = (command, commandArgs) => execFileSync(command, commandArgs, { stdio: 'inherit' });
const reencode = (input, output, ...flags) =>
  run(process.execPath, [new URL('./relaxed_madd.mjs', import.meta.url).pathname, input, output, 'wasm-dis', ...flags]);
try {
  const instrumented = join(work, 'instrumented.wasm');
  const profile = join(work, 'engine.profile');
  run('wasm-split', [...features, '--instrument', ...(pthreadScript ? ['--in-memory'] : []), whole, '-o', instrumented]);
  if (relaxed) reencode(instrumented, instrumented);
  if (pthreadScript) checkProfileFits(whole);
  run(process.execPath, [...nodeFlags, new URL('./split_profile.mjs', import.meta.url).pathname, glue, instrumented,
    models, profile, ...(pthreadScript ? ['--threads', pthreadScript] : [])]);
  // --export-prefix: the primary's new exports (what the deferred module calls back into) get names no export of
  // Emscripten's minified glue has.
  const [splitPrimary, splitDeferred] = relaxed ? [join(work, 'primary.wasm'), join(work, 'deferred.wasm')] : [primary, deferred];
  const outputs = ['--export-prefix=%', '-o1', splitPrimary, '-o2', splitDeferred];
  if (!pthreadScript) {
    run('wasm-split', [...features, whole, `--profile=${profile}`, ...outputs]);
  } else {
    // What the profile keeps (wasm-split says, naming each function by its index among the defined ones) and the
    // pthread code beside it.
    const { stdout, stderr, status } = spawnSync('wasm-split', [...features, '-v', whole, `--profile=${profile}`, '-o1',
      join(work, 'p.wasm'), '-o2', join(work, 'd.wasm')], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (status !== 0) throw new Error(`wasm-split failed: ${stderr}`);
    const said = stdout + stderr;
    const kept = said.match(/^Keeping functions: (.*)$/m)?.[1].split(', ').filter(Boolean) ?? [];
    if (kept.length === 0) throw new Error(`${whole}: wasm-split named no function the profile keeps`);
    const symbols = join(dirname(whole), `${basename(glue)}.symbols`);
    const keep = new Set([...kept, ...pthreadFunctionNames(whole, symbols)]);
    writeFileSync(join(work, 'keep.txt'), [...keep].join('\n'));
    run('wasm-split', [...features, whole, `--keep-funcs=@${join(work, 'keep.txt')}`, ...outputs]);
  }
  if (relaxed) {
    reencode(splitPrimary, primary, '--part');
    reencode(splitDeferred, deferred, '--part');
  }
  appendFileSync(primary, customSection('tinylm.deferred', basename(deferred)));
} finally {
  rmSync(work, { recursive: true, force: true });
}
