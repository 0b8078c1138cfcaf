// The demo and documentation site: web/site/*.html → dist-site/ (`npm run build:site`), a static folder that works
// from any host and any sub-path (relative base). The site imports the built package (dist/, `npm run build:lib`)
// as 'tinylm-js', so Vite bundles the engine worker and its .wasm exactly as it would in a user's app.
//
// Shipped models: models/index.json and the models/*.safetensors files it lists are served at ./models/ in dev and
// copied to dist-site/models/ by the build. TINYLM_SITE_MODELS=<dir> points at another directory with the same
// layout (used while models/ is being produced).
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

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
  return {
    name: 'tinylm-shipped-models',
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
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  plugins: [shippedModels()],
});
