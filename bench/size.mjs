// npm run size — the bytes each wasm runtime ships (gzip -9, as a static host serves them) against the size bars
// of issue 15, and where the .wasm's code goes: bytes per source area and the largest functions. The runtimes are
// read from dist/ (npm run build:lib), the code from build-wasm/ (npm run build:wasm), whose symbol maps name it.
//   node bench/size.mjs              both runtimes, the top areas and functions of the single-thread engine
//   node bench/size.mjs --top 60     more functions
//   node bench/size.mjs --threads    the areas and functions of the threaded engine instead
//   node bench/size.mjs --check      the runtimes only; exits 1 if one is over its bar (tests/js/size_bars.test.mjs)
// Function sizes are the raw bytes of each body in the code section (gzip shrinks code about 2.7×, unevenly).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = new URL('../', import.meta.url).pathname;
const dist = join(root, 'dist');
const args = process.argv.slice(2);
const topCount = Number(args[args.indexOf('--top') + 1]) || 30;
const kBars = { 'single-thread': 200_000, threaded: 230_000 };  // issue 15 item 6: bytes, gzip, per runtime

// gzip -9 itself, not zlib: the figures match bench/wasm/run.sh's and the command line's.
const gzipBytes = (buffer) => execFileSync('gzip', ['-9', '-c'], { input: buffer, maxBuffer: 1 << 28 }).length;

// A page downloads one runtime: the page's modules (browser.js and its imports), the worker of its build with the
// glue, and the .wasm. Two views: the files as published (each gzipped apart, as an unbundled page fetches them)
// and as an app's bundler ships them (each entry bundled and minified by esbuild, glue included, split into chunks
// as bundlers split code at import(): the entry's chunk and those it imports statically are downloaded at once, the
// others on first use of what they serve). The bars are checked against the second, what a production page
// downloads before its first generation.
const kEntries = {
  'single-thread': { workers: ['worker_browser.js'], wasm: 'wasm/tinylm_wasm.wasm', glue: 'wasm/tinylm_wasm.js' },
  // A self-contained bundle already (scripts/bundle_threaded_workers.sh), glue inside; each pthread Worker runs the
  // same file, which the browser's cache serves (web/lib/worker_pthread_start.ts).
  threaded: { workers: ['worker_browser_threads.js'], wasm: 'wasm/tinylm_wasm_threads.wasm' },
};
// Where relaxed SIMD validates (Chromium by default) the page downloads the relaxed .wasm instead, with the same
// glue and workers (web/lib/relaxed_simd.ts): the same bar.
kEntries['single-thread relaxed'] = { ...kEntries['single-thread'], wasm: 'wasm/tinylm_wasm_relaxed.wasm', bar: 'single-thread' };
kEntries['threaded relaxed'] = { ...kEntries.threaded, wasm: 'wasm/tinylm_wasm_threads_relaxed.wasm', bar: 'threaded' };

// The package modules a file pulls in through static imports, itself included; dependencies (bare specifiers) and
// the glue are not. Dynamic import() (code loaded on first use: Hugging Face checkpoints, fine-tuning, adapters,
// chat and its template engine) is not followed.
function staticClosure(entry, seen = new Set()) {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const source = readFileSync(entry, 'utf8');
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]/g)) {
    const target = join(dirname(entry), match[1]);
    if (target.endsWith('.js') && !target.includes(join('dist', 'wasm'))) staticClosure(target, seen);
  }
  return seen;
}

// → { initial, onFirstUse }: gzip bytes (each chunk apart, as a host serves them) of the chunks the entry loads at
// once — its own and those it imports statically, transitively — and of those only import() reaches.
function minifiedBundle(entry) {
  const outdir = mkdtempSync(join(tmpdir(), 'tinylm-size-'));
  try {
    execFileSync(join(root, 'node_modules/.bin/esbuild'), [entry, '--bundle', '--minify', '--splitting', '--format=esm',
      `--outdir=${outdir}`, `--metafile=${join(outdir, 'meta.json')}`,
      '--external:fs', '--external:path', '--external:worker_threads', '--external:perf_hooks',
      '--external:@huggingface/jinja', '--log-level=error'], { cwd: outdir, maxBuffer: 1 << 26 });
    const { outputs } = JSON.parse(readFileSync(join(outdir, 'meta.json'), 'utf8'));  // paths relative to outdir
    const initial = new Set();
    const visit = (chunk) => {
      if (initial.has(chunk)) return;
      initial.add(chunk);
      for (const { path, kind, external } of outputs[chunk].imports) if (kind === 'import-statement' && !external) visit(path);
    };
    visit(Object.keys(outputs).find((chunk) => outputs[chunk].entryPoint));
    const sizes = { initial: 0, onFirstUse: 0 };
    for (const chunk of Object.keys(outputs)) {
      sizes[initial.has(chunk) ? 'initial' : 'onFirstUse'] += gzipBytes(readFileSync(join(outdir, chunk)));
    }
    return sizes;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function reportRuntime(build) {
  const { workers, wasm, glue, bar: barName = build } = kEntries[build];
  const published = new Set(staticClosure(join(dist, 'browser.js')));
  for (const worker of workers) staticClosure(join(dist, worker), published);
  if (glue) published.add(join(dist, glue));
  const publishedJs = [...published].reduce((total, file) => total + gzipBytes(readFileSync(file)), 0);
  const bundles = [join(dist, 'browser.js'), ...workers.map((worker) => join(dist, worker))].map(minifiedBundle);
  const bundledJs = bundles.reduce((total, bundle) => total + bundle.initial, 0);
  const firstUseJs = bundles.reduce((total, bundle) => total + bundle.onFirstUse, 0);
  const wasmGzip = gzipBytes(readFileSync(join(dist, wasm)));
  const total = wasmGzip + bundledJs;
  const deferredFile = join(dist, wasm.replace(/[.]wasm$/, '.deferred.wasm'));
  const deferred = existsSync(deferredFile) ? `; deferred module (first training, LoRA, Hugging Face, beam or export): ${
    (gzipBytes(readFileSync(deferredFile)) / 1000).toFixed(1)} KB more` : '';
  const bar = kBars[barName];
  const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
  console.log(`${build.padEnd(21)} ${kb(total)} gzip (bar ${kb(bar)}: ${total <= bar ? 'within' : `over by ${kb(total - bar)}`})` +
    ` = .wasm ${kb(wasmGzip)} + js bundled and minified ${kb(bundledJs)}; as published: js ${kb(publishedJs)} in ` +
    `${published.size} files, total ${kb(wasmGzip + publishedJs)}${deferred}; js bundled, loaded on first use ` +
    `(Hugging Face checkpoints, fine-tuning, adapters, chat): ${kb(firstUseJs)} more`);
  return total <= bar;
}

// ---- the .wasm's sections and function bodies ----------------------------------------------------------------
function readLeb(bytes, at) {
  let value = 0, shift = 0, byte;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

const kSectionNames = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start',
  'element', 'code', 'data', 'data count', 'tag'];

// → { sections: [{ name, size }], bodies: [{ index, size, bytes }] } with index counting imported functions first.
function parseWasm(bytes) {
  const sections = [];
  const bodies = [];
  let importedFunctions = 0;
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, start] = readLeb(bytes, at + 1);
    sections.push({ name: kSectionNames[id] ?? `section ${id}`, size: start - at + size });
    if (id === 2) {  // imports: count the functions, whose indices come before the module's own
      let [count, p] = readLeb(bytes, start);
      for (let i = 0; i < count; i++) {
        for (let field = 0; field < 2; field++) {
          const [length, next] = readLeb(bytes, p);
          p = next + length;
        }
        const kind = bytes[p++];
        if (kind === 0) { importedFunctions++; p = readLeb(bytes, p)[1]; }
        else if (kind === 1) { p++; const [flags, q] = readLeb(bytes, p); p = readLeb(bytes, q)[1]; if (flags & 1) p = readLeb(bytes, p)[1]; }
        else if (kind === 2) { const [flags, q] = readLeb(bytes, p); p = readLeb(bytes, q)[1]; if (flags & 1) p = readLeb(bytes, p)[1]; }
        else if (kind === 3) p += 2;
        else if (kind === 4) { p++; p = readLeb(bytes, p)[1]; }
      }
    } else if (id === 10) {
      let [count, p] = readLeb(bytes, start);
      for (let i = 0; i < count; i++) {
        const [bodySize, bodyStart] = readLeb(bytes, p);
        bodies.push({ index: importedFunctions + i, size: bodyStart - p + bodySize, bytes: bytes.subarray(p, bodyStart + bodySize) });
        p = bodyStart + bodySize;
      }
    }
    at = start + size;
  }
  return { sections, bodies };
}

// The symbol map emscripten writes (--emit-symbol-map): "index:name", names demangled with bytes outside
// [A-Za-z0-9_.$] written as \\XX (hex).
function readNames(symbolsFile) {
  const names = new Map();
  for (const line of readFileSync(symbolsFile, 'utf8').split('\n').filter(Boolean)) {
    const colon = line.indexOf(':');
    const name = line.slice(colon + 1).replace(/\\([0-9a-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
    names.set(Number(line.slice(0, colon)), name);
  }
  return names;
}

// A function's own qualified name: what precedes its parameter list, template arguments removed
// ("emscripten::val tinylm::wasm::guarded<…>(…)" → "emscripten::val tinylm::wasm::guarded"), so that a library
// function is not counted as tinylm's because a tinylm type is among its arguments, nor the reverse.
function ownName(name) {
  let depth = 0, head = '';
  for (const char of name) {
    if (char === '<') depth++;
    else if (char === '>') depth = Math.max(0, depth - 1);
    else if (char === '(' && depth === 0) break;
    else if (depth === 0) head += char;
  }
  return head.trim().split(' ').pop();
}

// Source areas, matched against a function's own name; the first match wins. The library pieces that should cost
// little come first (iostream/locale and regex should be absent: nothing in the wasm engine formats through a
// stream), then tinylm's code by what it serves.
const kAreas = [
  ['nlohmann json', /nlohmann/],
  ['embind', /^(emscripten::|_embind|__embind|_emval|__emval)|EmscriptenBindingInitializer/],
  ['iostream/locale', /std::__2::(basic_(i|o)?stream|basic_ios|ios_base|locale|ctype|num_put|num_get|codecvt|moneypunct|money_|time_put|time_get|numpunct|messages|collate|__num_|basic_streambuf|basic_stringbuf|basic_filebuf)|__std(in|out)buf/],
  ['regex', /std::__2::(basic_regex|__match|__state|__node|regex)/],
  ['std containers and strings', /^std::/],
  ['printf, strtod, long double', /^(v?s?n?printf|fmt_fp|printf_core|pop_arg|strto|__floatscan|scanexp|__intscan|decfloat|hexfloat|frexp|__shgetc|__shlim|wcrtomb|mbrtowc|sn_write|out|pad|getint|__(add|sub|mul|div)tf3|__.*tf2|fmodl|__extend|__trunc|__fix|__float)/],
  ['exceptions, rtti', /__cxa|__cxxabiv1|_Unwind|__gxx_personality/],
  ['libc, malloc, math', /^(dl|__|malloc|free|realloc|calloc|mem|str|sbrk|emscripten_|abort|dispose_chunk|[a-z]+f?$)/],
  ['tinylm Hugging Face readers and tokenizers', /^tinylm::(hf::|Hf|load_hf|read_hf|tokenizer_json)|^tinylm::.*[Hh]f_/],
  ['tinylm bindings', /^tinylm::wasm::/],
  ['tinylm errors (fail, check)', /^tinylm::(fail|check)$/],
  ['tinylm lora', /Lora|lora|adapter|Adapter/],
  ['tinylm llama', /Llama|llama|Rotary|rms|swiglu/],
  ['tinylm training', /Trainer|train|Optim|adam|backward|checkpoint|Batcher|fingerprint/],
  ['tinylm models', /^tinylm::(GptLM|RecurrentLM|NgramModel|Decoder|model_|Model|CompactMatrices|StepMatrices|ParameterTable|WindowedEvaluation|RecurrentEvaluation|FusedModel)/],
  ['tinylm generation', /^tinylm::(Generator|BeamSearch|Sampler|Session|sample)/],
  ['tinylm tokenizers', /^tinylm::.*([Tt]okeniz|Bpe|utf8|Word|Char)/],
  ['tinylm kernels and layers', /^tinylm::/],
];
const areaOf = (name) => (kAreas.find(([, pattern]) => pattern.test(ownName(name))) ?? ['other'])[0];

function reportCode(build) {
  const [wasmFile, symbolsFile] = build === 'threaded'
    ? ['build-wasm/wasm/threads/tinylm_wasm_threads.wasm.orig', 'build-wasm/wasm/threads/tinylm_wasm_threads.mjs.symbols']
    : ['build-wasm/wasm/tinylm_wasm.wasm.orig', 'build-wasm/wasm/tinylm_wasm.js.symbols'];  // whole, before the split
  const bytes = readFileSync(join(root, wasmFile));
  const { sections, bodies } = parseWasm(bytes);
  console.log(`\n${wasmFile}: ${bytes.length.toLocaleString('en')} B, ${bodies.length} functions`);
  console.log(`  sections: ${sections.filter((s) => s.size > 1000).map((s) => `${s.name} ${s.size.toLocaleString('en')}`).join(', ')}`);
  if (!existsSync(join(root, symbolsFile))) {
    console.log(`  (no ${symbolsFile}: run npm run build:wasm for names)`);
    return;
  }
  const names = readNames(join(root, symbolsFile));
  const areas = new Map();
  for (const body of bodies) {
    body.name = names.get(body.index) ?? `function ${body.index}`;
    const area = areaOf(body.name);
    const entry = areas.get(area) ?? { size: 0, count: 0, parts: [] };
    entry.size += body.size;
    entry.count += 1;
    entry.parts.push(body.bytes);
    areas.set(area, entry);
  }
  console.log('  code by area (raw bytes; gzip of the area\'s bodies alone):');
  for (const [area, entry] of [...areas].sort((a, b) => b[1].size - a[1].size)) {
    console.log(`  ${entry.size.toLocaleString('en').padStart(9)} ${gzipBytes(Buffer.concat(entry.parts)).toLocaleString('en').padStart(8)}` +
      ` ${String(entry.count).padStart(5)}  ${area}`);
  }
  console.log(`  largest ${topCount} functions (raw bytes):`);
  for (const body of [...bodies].sort((a, b) => b.size - a.size).slice(0, topCount)) {
    const name = body.name.length > 150 ? `${body.name.slice(0, 147)}...` : body.name;
    console.log(`  ${body.size.toLocaleString('en').padStart(9)}  ${name}`);
  }
}

const within = Object.keys(kEntries).map(reportRuntime).every(Boolean);
if (args.includes('--check')) process.exit(within ? 0 : 1);
reportCode(args.includes('--threads') ? 'threaded' : 'single-thread');
