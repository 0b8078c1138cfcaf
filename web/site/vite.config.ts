// The demo and documentation site: web/site/*.html → dist-site/ (`npm run build:site`), a static folder that works
// from any host and any sub-path (relative base). The site imports the built package (dist/, `npm run build:lib`)
// as 'tinylm-js', so Vite bundles the engine worker and its .wasm exactly as it would in a user's app.
//
// Shipped models: models/index.json and the models/*.safetensors files it lists are served at ./models/ in dev and
// copied to dist-site/models/ by the build; the index itself is also built into the pages ('virtual:tinylm-models')
// so a page starts its model download without first asking for the list. TINYLM_SITE_MODELS=<dir> points at
// another directory with the same layout (used while models/ is being produced).
//
// Code samples are highlighted here, at build time: `import samples, { other } from './x.mjs?highlight'` gives x.mjs's
// exports with an `html` field (highlight.js markup) beside every `code`, so pages ship no highlighter.
// Every page's <head> gets the theme script (no flash of the wrong theme) and the logo as its icon.
//
// Threads: the engine's threaded build needs a cross-origin isolated page. The dev server and `vite preview`
// (`npm start`) send COOP/COEP themselves; the built site, for hosts that cannot set headers, registers
// coi-serviceworker (npm), a service worker that adds them (COEP credentialless) and reloads the page once. Where
// neither applies, pages run on one thread, and the footer and a console warning say so (src/shared/runtime.ts).
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import typescript from 'highlight.js/lib/languages/typescript';
import { defineConfig, type Plugin } from 'vite';
import { logoDataUrl } from './src/shared/icons.js';
import { themeBootScript } from './src/shared/theme.js';

const siteRoot = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(siteRoot, '../..');
const modelsDir = process.env.TINYLM_SITE_MODELS ? resolve(process.env.TINYLM_SITE_MODELS) : join(repoRoot, 'models');
const pages = readdirSync(siteRoot).filter((file) => extname(file) === '.html');

function shippedModels(): Plugin {
  const files = () => {
    const index = join(modelsDir, 'index.json');
    if (!existsSync(index)) throw new Error(`no ${index}: the site needs the shipped models' index (see models/)`);
    return ['index.json', ...readdirSync(modelsDir).filter((file) => file.endsWith('.safetensors'))];
  };
  let outDir = '';
  const virtualId = 'virtual:tinylm-models';
  return {
    name: 'tinylm-shipped-models',
    resolveId: (id) => (id === virtualId ? `\0${virtualId}` : undefined),
    load(id) {
      if (id !== `\0${virtualId}`) return undefined;
      const index = join(modelsDir, 'index.json');
      this.addWatchFile(index);
      const entries = JSON.parse(readFileSync(index, 'utf8')) as Array<{ name: string; file: string }>;
      const present = entries.filter((entry) => existsSync(join(modelsDir, entry.file)));
      for (const entry of entries) if (!present.includes(entry)) this.warn(`models/index.json lists ${entry.file}, which is not in ${modelsDir}: left out`);
      return `export default ${JSON.stringify(present)};`;
    },
    configResolved(config) {
      outDir = config.build.outDir;
    },
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const match = /\/models\/([^/?]+)/.exec(request.url ?? '');
        if (!match || !files().includes(match[1])) return next();
        const type = match[1].endsWith('.json') ? 'application/json' : 'application/octet-stream';
        response.setHeader('content-type', type);
        response.end(readFileSync(join(modelsDir, match[1])));
      });
    },
    closeBundle() {
      mkdirSync(join(outDir, 'models'), { recursive: true });
      for (const file of files()) copyFileSync(join(modelsDir, file), join(outDir, 'models', basename(file)));
    },
  };
}

hljs.registerLanguage('bash', bash);
hljs.registerLanguage('javascript', javascript);
hljs.registerLanguage('json', json);
hljs.registerLanguage('typescript', typescript);

// Adds `html` to every object with a string `code` (and optional `language`, default javascript) in a value.
function highlightAll(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(highlightAll);
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value).map(([key, item]) => [key, highlightAll(item)]);
  const object = Object.fromEntries(entries) as Record<string, unknown>;
  if (typeof object.code === 'string') {
    object.language ??= 'javascript';
    object.html = hljs.highlight(object.code, { language: String(object.language) }).value;
  }
  return object;
}

function highlightedCode(): Plugin {
  return {
    name: 'tinylm-highlighted-code',
    async load(id) {
      if (!id.endsWith('?highlight')) return undefined;
      const file = id.slice(0, -'?highlight'.length);
      this.addWatchFile(file);
      const module = await import(`${pathToFileURL(file).href}?t=${Date.now()}`);
      return Object.entries(module).map(([name, value]) => {
        const json = JSON.stringify(highlightAll(value));
        return name === 'default' ? `export default ${json};` : `export const ${name} = ${json};`;
      }).join('\n');
    },
  };
}

// The playground's default model starts downloading while the page's script is still loading: its fetch() then
// takes the preloaded response (same URL, mode and credentials).
function pageHead(): Plugin {
  const defaultModel = () => (JSON.parse(readFileSync(join(modelsDir, 'index.json'), 'utf8')) as Array<{ file: string; default?: boolean }>)
    .find((entry) => entry.default)?.file;
  return {
    name: 'tinylm-page-head',
    transformIndexHtml: (_html, context) => [
      { tag: 'script', children: themeBootScript, injectTo: 'head-prepend' },
      { tag: 'link', attrs: { rel: 'icon', type: 'image/svg+xml', href: logoDataUrl }, injectTo: 'head' },
      { tag: 'meta', attrs: { name: 'color-scheme', content: 'light dark' }, injectTo: 'head' },
      ...(basename(context.filename) === 'index.html' && defaultModel()
        ? [{ tag: 'link', attrs: { rel: 'preload', as: 'fetch', crossorigin: 'anonymous', href: `./models/${defaultModel()}` }, injectTo: 'head' as const }]
        : []),
    ],
  };
}

// Every page starts the engine first thing (shared/models.ts). Two things it needs begin in <head> instead, in an
// inline script ahead of everything (the stylesheet would hold a script back), while the page's own scripts are
// still arriving and being evaluated, for the build the package will pick: the threaded one on a cross-origin
// isolated page with more than one core (shared/runtime.ts asks for a thread per core), else the single-thread one,
// and its relaxed SIMD .wasm where that validates.
//   - The engine's worker starts (its thread, script and glue take a few hundred milliseconds).
//   - The engine's .wasm downloads and compiles (WebAssembly.compileStreaming), which the package would otherwise
//     begin only once the page's modules have run (web/lib/engine_module.ts).
// shared/runtime.ts hands both over (window.tinylmEngineWorker, window.tinylmEngineModule) with
// TinyLM.configure({ worker, engineModule }), and the engine adopts them. A worker that fails before then (its
// 'error' event would reach no listener of the package's) is withdrawn by its onerror, so the package starts its
// own at once rather than after its patience (web/lib/given_worker.ts).
// The package's own test for relaxed SIMD (web/lib/relaxed_simd.ts: a function returning f32x4.relaxed_madd of three
// zero vectors), by which it chooses the relaxed .wasm: the page compiles the one the package would.
const v128Zero = '253,12' + ',0'.repeat(16);
const relaxedSimdTest = 'WebAssembly.validate(new Uint8Array([0,97,115,109,1,0,0,0,1,5,1,96,0,1,123,3,2,1,0,10,61,1,59,0,' +
  `${v128Zero},${v128Zero},${v128Zero},253,133,2,11]))`;
function engineEarlyStart(): Plugin {
  return {
    name: 'tinylm-engine-early-start',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, context) {
        const files = Object.keys(context.bundle ?? {});
        const find = (pattern: RegExp) => files.find((file) => pattern.test(file));
        const wasm = { threads: find(/tinylm_wasm_threads-[^/]*\.wasm$/), single: find(/tinylm_wasm-[^/]*\.wasm$/) };
        const relaxedWasm = { threads: find(/tinylm_wasm_threads_relaxed-[^/]*\.wasm$/), single: find(/tinylm_wasm_relaxed-[^/]*\.wasm$/) };
        const worker = { threads: find(/worker_browser_threads-[^/]*\.js$/), single: find(/worker_browser-[^/]*\.js$/) };
        if (!wasm.threads || !wasm.single || !relaxedWasm.threads || !relaxedWasm.single || !worker.threads || !worker.single) {
          throw new Error(`tinylm-engine-early-start: the engine's files are not in the bundle (found ${JSON.stringify({ wasm, relaxedWasm, worker })})`);
        }
        const pick = (choice: { threads?: string; single?: string }) => `threaded ? ${JSON.stringify(`./${choice.threads}`)} : ${JSON.stringify(`./${choice.single}`)}`;
        const script = '(function () { var threaded = self.crossOriginIsolated && navigator.hardwareConcurrency > 1; ' +
          `try { var worker = new Worker(${pick(worker)}, { type: 'module' }); window.tinylmEngineWorker = worker; ` +
          'worker.onerror = function () { if (window.tinylmEngineWorker === worker) delete window.tinylmEngineWorker; }; } ' +
          'catch (error) { /* the package starts its own */ } ' +
          `try { var relaxed = ${relaxedSimdTest}; window.tinylmEngineModule = WebAssembly.compileStreaming(fetch(relaxed ? ${pick(relaxedWasm)} : ${pick(wasm)})); ` +
          'window.tinylmEngineModule.catch(function () { /* the package compiles it */ }); } catch (error) { /* the package compiles it */ } })();';
        return [{ tag: 'script', children: script, injectTo: 'head-prepend' }];
      },
    },
  };
}

// The body text's font (Inter, its Latin subset) is requested with the page rather than once the first layout finds
// text that needs it: on a fast connection it is then in by that layout, which shapes the text once in Inter instead
// of first through the fallback families (font matching the system does not have) and again when the font swaps in.
function fontPreload(): Plugin {
  return {
    name: 'tinylm-font-preload',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, context) {
        const font = Object.keys(context.bundle ?? {}).find((file) => /inter-latin-wght-normal-[^/]*\.woff2$/.test(file));
        if (!font) throw new Error('tinylm-font-preload: the Inter Latin font is not in the bundle');
        return [{ tag: 'link', attrs: { rel: 'preload', as: 'font', type: 'font/woff2', crossorigin: 'anonymous', href: `./${font}` }, injectTo: 'head' }];
      },
    },
  };
}

const isolationHeaders = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

// The built pages load coi-serviceworker.js (copied beside them) before anything else; on an isolated page it does
// nothing. Its settings: COEP credentialless (cross-origin images without CORP headers still load), no logging.
function crossOriginIsolation(): Plugin {
  const workerFile = join(repoRoot, 'node_modules/coi-serviceworker/coi-serviceworker.min.js');
  let outDir = '';
  return {
    name: 'tinylm-cross-origin-isolation',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    transformIndexHtml: () => [
      { tag: 'script', children: 'window.coi = { coepCredentialless: () => true, quiet: true };', injectTo: 'head-prepend' },
      { tag: 'script', attrs: { src: './coi-serviceworker.js' }, injectTo: 'head-prepend' },
    ],
    closeBundle() {
      copyFileSync(workerFile, join(outDir, 'coi-serviceworker.js'));
    },
  };
}

export default defineConfig({
  root: siteRoot,
  base: './',
  publicDir: false,
  resolve: { alias: { 'tinylm-js': join(repoRoot, 'dist/browser.js') } },
  worker: { format: 'es' },
  build: {
    outDir: join(repoRoot, 'dist-site'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
    rollupOptions: { input: Object.fromEntries(pages.map((page) => [page.replace('.html', ''), join(siteRoot, page)])) },
  },
  server: { host: '127.0.0.1', port: 5173, headers: isolationHeaders },
  preview: { host: '127.0.0.1', port: 4173, headers: isolationHeaders },
  plugins: [shippedModels(), highlightedCode(), pageHead(), crossOriginIsolation(), engineEarlyStart(), fontPreload()],
});
