// What each wasm engine links, read from its symbol map (Emscripten's --emit-symbol-map over the whole engine, before
// wasm/split_engine.mjs splits it): code whose size every page pays for and that nothing else would notice.
//   - No double-precision pow or log. musl's are table-driven, and a table is data, which wasm-split leaves whole in
//     the primary module a page downloads first: ~4 KB of gzip each. The engine calls the float ones, or log1p.
//   - One JSON parser: parse_json's (io/json_text.cpp). nlohmann::json::parse compiles two, ~10 KB of wasm each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const buildDir = fileURLToPath(new URL('../../build-wasm/wasm/', import.meta.url));
const engines = {
  'single-thread': `${buildDir}tinylm_wasm.js.symbols`,
  threaded: `${buildDir}threads/tinylm_wasm_threads.mjs.symbols`,
};

// "index:name", punctuation escaped as \XX.
const namesIn = (file) => readFileSync(file, 'utf8').split('\n').filter(Boolean)
  .map((line) => line.slice(line.indexOf(':') + 1).replace(/\\([0-9a-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))));

for (const [engine, symbols] of Object.entries(engines)) {
  test(`the ${engine} engine links no double pow or log, and one JSON parser`, { skip: !existsSync(symbols) && 'npm run build:wasm first' }, () => {
    const names = namesIn(symbols);
    assert.ok(names.includes('expf') && names.includes('logf'), 'the map names libm functions as C names');
    assert.deepEqual(names.filter((name) => ['pow', 'log', '__pow', '__log'].includes(name)), []);
    // nlohmann's own value builders, and parser::parse, which compiles both: every document goes through parse_json.
    const nlohmannBuilders = names.filter((name) => /json_sax_dom_(callback_)?parser|::detail::parser<.*>::parse\(bool/.test(name));
    assert.deepEqual(nlohmannBuilders.map((name) => name.slice(0, 200)), []);
  });
}
