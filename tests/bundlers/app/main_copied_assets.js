// For bundlers that do not emit assets (esbuild, Rollup without plugins): the README's recipe copies the package's
// dist/ folder to ./tinylm-js/ beside the page and says so once.
import { TinyLM } from 'tinylm-js';
import { run } from './app.js';

TinyLM.configure({ assetBase: './tinylm-js/' });
run();
