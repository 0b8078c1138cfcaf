// The chat with an instruct model from the Hugging Face Hub (one with a chat template, e.g. SmolLM2-135M-Instruct):
// the conversation goes to the model as messages, rendered by the model's own template (lm.chatPrompt), and the reply
// ends at its end-of-turn token (lm.chat). The same promises as the turn format (format.ts): the user's message
// always goes in, then the opening line about the user (as the system message), then older turns, newest first,
// as long as the rendered prompt fits the budget (tokens); empty replies are left out.
import type { ChatMessage, TinyLM } from 'tinylm-js';
import type { ContextPlan, Turn } from './format.js';

export interface HubContextPlan extends ContextPlan {
  messages: ChatMessage[];
}

export function hasChatTemplate(lm: TinyLM): boolean {
  return Boolean(lm.info.source?.chatTemplate);
}

export async function planHubContext(lm: TinyLM, turns: Turn[], opening: string, budget: number): Promise<HubContextPlan> {
  const last = turns.length - 1;
  const system: ChatMessage[] = opening.trim() ? [{ role: 'system', content: `About the user: ${opening.trim()}` }] : [];
  const asMessage = (turn: Turn): ChatMessage => ({ role: turn.speaker === 'user' ? 'user' : 'assistant', content: turn.said ?? turn.text });
  const measure = async (messages: ChatMessage[]) => {
    const text = await lm.chatPrompt(messages);
    return { text, used: (await lm.encode(text)).length };
  };
  let history: ChatMessage[] = [asMessage(turns[last])];
  let fitted = await measure(history);
  const withOpening = system.length > 0 ? await measure([...system, ...history]) : undefined;
  const openingIncluded = withOpening !== undefined && withOpening.used <= budget;
  const head = openingIncluded ? system : [];
  if (openingIncluded) fitted = withOpening;
  let firstTurn = last;
  for (let index = last - 1; index >= 0; index--) {
    if (turns[index].empty) {
      firstTurn = index;
      continue;
    }
    const candidate = [asMessage(turns[index]), ...history];
    const measured = await measure([...head, ...candidate]);
    if (measured.used > budget) break;
    history = candidate;
    fitted = measured;
    firstTurn = index;
  }
  const messages = [...head, ...history];
  return { messages, text: fitted.text, used: fitted.used, firstTurn, openingIncluded, messageCut: false };
}
