// The chat's turn format and its rules, free of the page: what the model reads, how a reply is cut to a turn,
// and when a reply only repeats the user.
//
// Format: one turn per line, the next line answers it — the shape of the offline chat model's training text
// (scripts/corpus/austen_dialogue.mjs). The context is [opening line] [older turns …] [the user's message], each
// followed by "\n", and the model writes the next line. Priority when the budget is short: the user's message
// always goes in (cut to its end if it alone is too long), then the opening line about the user, then the turns
// before it, newest first — so older turns are trimmed first.

export interface Turn {
  speaker: 'user' | 'model';
  text: string;
  empty?: boolean;  // a reply the model ended at once: shown as such, never fed back into the context
  ended?: 'turn' | 'cut';  // a reply: the model ended its line, or the token limit did (then finishReply cut it)
  // An instruct model's reply that ended at its end-of-turn token, exactly as the model wrote it (text is tidied
  // for display). It goes back into the chat template as written, so the next chat() finds the tokens it already
  // holds and reads only the new turn (TinyLM.chat keeps its state between calls).
  said?: string;
}

export interface ContextPlan {
  text: string;            // what the model reads
  firstTurn: number;       // index of the oldest turn in it (turns before it are shown as trimmed)
  openingIncluded: boolean;
  messageCut: boolean;     // the user's message alone was over the budget: only its end is in
  used: number;            // budget units (characters or tokens) the text takes
}

// Units are the model's own: characters for a char model, tokens otherwise (measured by the model's tokenizer).
export type Measure = (text: string) => Promise<number>;

export async function planContext(turns: Turn[], opening: string, budget: number, measure: Measure): Promise<ContextPlan> {
  const last = turns.length - 1;
  let message = `${turns[last].text}\n`;
  let used = await measure(message);
  let messageCut = false;
  while (used > budget && message.length > 1) {  // keep the message's end: the words the reply answers
    message = message.slice(Math.max(1, Math.floor(message.length * 0.1)));
    used = await measure(message);
    messageCut = true;
  }
  const lines = [message];
  const openingLine = opening.trim() ? `${opening.trim()}\n` : '';
  const openingCost = openingLine ? await measure(openingLine) : 0;
  const openingIncluded = openingLine !== '' && used + openingCost <= budget;
  if (openingIncluded) used += openingCost;
  let firstTurn = last;
  for (let index = last - 1; index >= 0; index--) {
    if (turns[index].empty) {
      firstTurn = index;
      continue;
    }
    const line = `${turns[index].text}\n`;
    const cost = await measure(line);
    if (used + cost > budget) break;
    used += cost;
    lines.unshift(line);
    firstTurn = index;
  }
  return { text: (openingIncluded ? openingLine : '') + lines.join(''), firstTurn, openingIncluded, messageCut, used };
}

// A reply as a turn: trimmed; when generation stopped at the token limit instead of the end of a line, cut back
// to its last complete sentence (or word, marked with "…") so a reply never ends mid-word.
export function finishReply(text: string, endedLine: boolean): string {
  const reply = text.replace(/\s+/g, ' ').trim();
  if (endedLine || reply === '') return reply;
  const sentence = /^(.*[.!?…][’'")\]]*)(\s|$)/.exec(reply);
  if (sentence && sentence[1].length >= reply.length / 3) return sentence[1];
  const space = reply.lastIndexOf(' ');
  return `${(space > 0 ? reply.slice(0, space) : reply).replace(/[,;:—–-]+$/, '')}…`;
}

const normalise = (text: string) => text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();

// True when the reply is one of the user's lines, contains one (of a few words or more), or is contained in one:
// the model is repeating the user instead of answering.
export function echoesUser(reply: string, userLines: string[]): boolean {
  const said = normalise(reply);
  if (said === '') return false;
  return userLines.map(normalise).some((line) => line !== '' &&
    (line === said || (line.length >= 20 && said.includes(line)) || (said.length >= 20 && line.includes(said))));
}
