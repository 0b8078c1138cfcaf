// Fine-tuning defaults from the size of the text, and what the page keeps across reloads.
//
// Measured on the shipped Moby Dick LSTM: a page of new prose (3.6 K characters of Austen) gains only in its first
// one or two passes and then memorises — at learning rate 1e-3 held-out loss rises from the second step, at 3e-4 it
// falls steadily for 14 steps of 8 × 64 characters (1.615 → 1.599) — while a repeated paragraph keeps falling for
// as long as it trains. So small texts get about two passes at 3e-4; larger ones more steps at higher rates. The
// best validation checkpoint is kept whichever way it goes (best_checkpoint.ts).

export interface Settings {
  steps: number;
  learningRate: number;
  batchSize: number;   // B
  seqLen: number;      // T
  evalEvery: number;
}

export function suggestedSettings(characters: number): Settings {
  const train = Math.floor(characters * 0.9);  // the last 10% is held out for validation
  let settings: Omit<Settings, 'evalEvery'>;
  if (characters < 20_000) {
    settings = { batchSize: 8, seqLen: 64, learningRate: 3e-4, steps: clamp(Math.round((2 * train) / (8 * 64)), 10, 60) };
  } else if (characters < 200_000) {
    settings = { batchSize: 16, seqLen: 64, learningRate: 5e-4, steps: clamp(Math.round(train / (16 * 64)), 30, 200) };
  } else {
    settings = { batchSize: 16, seqLen: 64, learningRate: 1e-3, steps: 300 };
  }
  return { ...settings, evalEvery: Math.max(1, Math.ceil(settings.steps / 12)) };
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

const storageKey = 'tinylm-finetune';

export interface SavedPage {
  text: string;
  steps: number | null;          // null: follow the suggestion
  learningRate: number | null;
  model: string;
  saveName: string;
}

export function loadPage(): Partial<SavedPage> {
  try {
    const saved = JSON.parse(localStorage.getItem(storageKey) ?? 'null');
    return saved && typeof saved === 'object' ? saved : {};
  } catch {
    return {};
  }
}

export function savePage(page: SavedPage): void {
  try {
    localStorage.setItem(storageKey, JSON.stringify(page));
  } catch {
    // Storage full or blocked: the page still works, it will not remember the text.
  }
}
