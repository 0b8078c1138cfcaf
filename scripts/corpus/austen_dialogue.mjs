// node scripts/corpus/austen_dialogue.mjs DATA_DIR OUT.txt — the dialogue of Jane Austen's six novels as
// conversations, one turn per line, for the offline chat model (models/austen-chat-lstm.md).
//
// DATA_DIR is the data/ folder of Debian's r-cran-janeaustenr (the novels as Project Gutenberg prepared them, one
// R character vector of lines per novel; scripts/corpus/r_lazyload.mjs reads it without R). For each novel, in
// the package's order:
//   1. paragraphs are runs of non-blank lines, joined with spaces; "_" (italics) goes, "--" becomes "—";
//   2. a paragraph is a turn when at least a third of it is inside double quotes; the turn is its quoted parts
//      joined ("…likes," said her mother, "since…" → "…likes, since…"; a comma before a capitalised part becomes
//      a full stop); a turn whose quote stays open continues into the next paragraph (one speaker, several
//      paragraphs);
//   3. a turn over 300 characters keeps its first sentences up to 300 ("Mr." and the like end none); one whose first sentence is longer ends
//      the conversation there, as does any paragraph of narration;
//   4. runs of two or more consecutive turns are conversations, written as lines separated by a blank line.
// The speakers are not named: in the file and in the chat page's context, a turn is a line and the next line
// answers it. OUT.heldout.txt gets the last 10% of OUT's characters: the part `tinylm train --data OUT` holds out
// for validation (the CLI's split), so `tinylm eval --data OUT.heldout.txt` scores a model on unseen text.
import { writeFileSync } from 'node:fs';
import { readLazyLoadStrings } from './r_lazyload.mjs';

const MAX_TURN = 300;
const ABBREVIATION = /\b(Mr|Mrs|Dr|St|Col)\.$/;  // a full stop that does not end a sentence

function paragraphs(lines) {
  const result = [];
  let current = [];
  for (const line of [...lines, '']) {
    if (line.trim() === '') {
      if (current.length) result.push(current.join(' ').replace(/_/g, '').replace(/--/g, '—').replace(/\s+/g, ' ').trim());
      current = [];
    } else {
      current.push(line.trim());
    }
  }
  return result;
}

// The quoted parts of a paragraph, and whether its last quote is still open at the end.
function quotedParts(paragraph) {
  const pieces = paragraph.split('"');
  const parts = [];
  for (let index = 1; index < pieces.length; index += 2) parts.push(pieces[index].trim());
  return { parts: parts.filter(Boolean), open: pieces.length % 2 === 0 };
}

function joinParts(parts) {
  let text = '';
  for (const part of parts) {
    if (text && /,$/.test(text) && /^[A-Z]/.test(part) && !/^I\b/.test(part)) text = `${text.slice(0, -1)}.`;
    text = text ? `${text} ${part}` : part;
  }
  return text;
}

// The first sentences of a turn that fit MAX_TURN characters, or null when even the first does not.
function shorten(turn) {
  if (turn.length <= MAX_TURN) return turn;
  const sentences = turn.match(/[^.!?]+[.!?]+['’)]*\s*/g) ?? [];
  let kept = '';
  let complete = '';  // kept up to its last real sentence end
  for (const sentence of sentences) {
    if ((kept + sentence).trim().length > MAX_TURN) break;
    kept += sentence;
    if (!ABBREVIATION.test(kept.trim())) complete = kept;
  }
  return complete.trim() || null;
}

function conversations(lines) {
  const result = [];
  let conversation = [];
  let speech = null;  // the turn being built (quotes may run over several paragraphs)
  const close = () => {
    if (conversation.length >= 2) result.push(conversation);
    conversation = [];
  };
  const finishTurn = () => {
    if (speech === null) return;
    const turn = shorten(joinParts(speech));
    speech = null;
    if (turn === null) close();
    else conversation.push(turn);
  };
  for (const paragraph of paragraphs(lines)) {
    const { parts, open } = quotedParts(paragraph);
    const quoted = parts.reduce((sum, part) => sum + part.length, 0);
    if (parts.length === 0 || quoted < paragraph.length / 3) {
      finishTurn();
      close();
      continue;
    }
    if (speech === null) speech = [];
    speech.push(...parts);
    if (!open) finishTurn();
  }
  finishTurn();
  close();
  return result;
}

const [dataDirectory, out] = process.argv.slice(2);
if (!dataDirectory || !out) {
  console.error('usage: node scripts/corpus/austen_dialogue.mjs R_PACKAGE_DATA_DIR OUT.txt');
  process.exit(2);
}
const novels = readLazyLoadStrings(dataDirectory);
const all = [];
for (const [name, lines] of Object.entries(novels)) {
  const found = conversations(lines);
  all.push(...found);
  console.error(`${name}: ${found.length} conversations, ${found.reduce((sum, c) => sum + c.length, 0)} turns`);
}
const text = `${all.map((conversation) => conversation.join('\n')).join('\n\n')}\n`;
writeFileSync(out, text);
const characters = [...text];
const heldOut = Math.floor(characters.length * Math.fround(0.1));  // as the CLI's split: floor(n · 0.1f)
writeFileSync(out.replace(/\.txt$/, '.heldout.txt'), characters.slice(characters.length - heldOut).join(''));
console.error(`${out}: ${all.length} conversations, ${text.length} characters`);
