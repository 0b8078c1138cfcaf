// The package's code that loads on first use: checkpoints, fine-tuning, adapters, chat (import(), so that an app's
// bundler emits each as a chunk of its own and a page that never calls them never downloads them). A chunk that does
// not arrive fails the call that needed it with a TinyLMError naming what was missing, instead of the browser's bare
// "Failed to fetch dynamically imported module"; the model and the engine stay as they were.
import { TinyLMError } from './errors.js';

export async function firstUse<M>(loading: Promise<M>, what: string): Promise<M> {
  try {
    return await loading;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TinyLMError('NOT_FOUND', `tinylm-js: the package's code for ${what} could not be loaded (${reason}); ` +
      'serve every file the app\'s bundler emitted, beside the others');
  }
}
