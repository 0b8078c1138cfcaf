// What the chat keeps across reloads, in this browser only: the profile, the settings, the conversation and the
// model choice in localStorage ('tinylm-chat'); the model it learned from the user in IndexedDB (TinyLM.save,
// under learnedModelName). "Clear" removes each.
import { TinyLM } from 'tinylm-js';
import type { Turn } from './format.js';

const storageKey = 'tinylm-chat';
export const learnedModelName = 'chat-learned';

export interface ChatState {
  name: string;
  opening: string;           // a line about the user the model reads first
  temperature: number;
  budget: number | null;     // null: the model's default
  model: string;             // a picker choice ('shipped:…' or 'stored:…')
  turns: Turn[];
  learnedFrom: string | null;  // the choice the learned model started from, when there is one
}

export const defaultState: ChatState = {
  name: 'Ada',
  opening: 'My name is Ada. I am fond of long walks and of the sea.',
  temperature: 0.6,
  budget: null,
  model: '',
  turns: [],
  learnedFrom: null,
};

export function loadState(): ChatState {
  try {
    const saved = JSON.parse(localStorage.getItem(storageKey) ?? 'null') as Partial<ChatState> | null;
    if (!saved || typeof saved !== 'object') return { ...defaultState };
    const turns = Array.isArray(saved.turns)
      ? saved.turns.filter((turn): turn is Turn => (turn?.speaker === 'user' || turn?.speaker === 'model') && typeof turn.text === 'string')
      : [];
    return { ...defaultState, ...saved, turns };
  } catch {
    return { ...defaultState };  // unreadable or blocked storage: start fresh rather than fail
  }
}

export function saveState(state: ChatState): void {
  try {
    localStorage.setItem(storageKey, JSON.stringify(state));
  } catch {
    // Storage full or blocked: the conversation still works, it just will not survive a reload.
  }
}

export async function forgetLearnedModel(): Promise<void> {
  if ((await TinyLM.storedModels().catch(() => [] as string[])).includes(learnedModelName)) await TinyLM.removeStored(learnedModelName);
}
