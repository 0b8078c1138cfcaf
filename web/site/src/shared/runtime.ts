// The engine's threads on this site: one per core, up to 4 — the threaded build when the page is cross-origin
// isolated (headers from the server, or coi-serviceworker on hosts without them: vite.config.ts), else one thread,
// with the package's console warning. The built pages start the engine's worker for that build in <head> and
// compile its .wasm there (vite.config.ts), which the engine adopts. Imported by the page frame (layout.ts) before any page loads a model,
// since TinyLM.configure applies to engines started afterwards; the footer says what the engine runs on.
import { TinyLM } from 'tinylm-js';

declare global {
  interface Window {
    tinylmEngineWorker?: Worker;  // started in <head> by the built pages; absent on the dev server
    tinylmEngineModule?: Promise<WebAssembly.Module>;  // likewise
  }
}

TinyLM.configure({
  threads: Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)),
  worker: window.tinylmEngineWorker,
  engineModule: window.tinylmEngineModule,
});
delete window.tinylmEngineWorker;  // the engine owns them now
delete window.tinylmEngineModule;

export function runtimeDescription(): string {
  const { build, threads } = TinyLM.capabilities();
  if (build === 'threads') return `The model runs in this tab on ${threads} threads: WebAssembly in Web Workers, nothing uploaded.`;
  const why = crossOriginIsolated ? '' : ' (this page is not cross-origin isolated)';
  return `The model runs in this tab on 1 thread${why}: WebAssembly in a Web Worker, nothing uploaded.`;
}
