// Every shipped char model can read and write what people type: its vocabulary holds the whole typing set
// ("ascii+typographic": printable ASCII, Latin-1, English typography — web/site/src/shared/charset.mjs, the same
// set as the native named_character_set), so no typed character becomes <unk> ("�"). Byte-level BPE models cover
// every byte by construction. Read from each file's safetensors metadata, the tokenizer as the engine loads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asciiTypographic } from '../../web/site/src/shared/charset.mjs';
import { root } from './helpers.mjs';

const index = JSON.parse(readFileSync(join(root, 'models', 'index.json'), 'utf8'));

function tokenizerOf(file) {
  const bytes = readFileSync(join(root, 'models', file));
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  return JSON.parse(header.__metadata__.tokenizer);
}

test('the typing set is 216 characters: tab, newline, printable ASCII, Latin-1 and typography', () => {
  assert.equal([...asciiTypographic].length, 216);
  for (const character of '\'"#%+/<=>@\\^_`{|}~éÉçñ«»£‘’“”–—…€') assert.ok(asciiTypographic.includes(character), character);
});

for (const entry of index.filter((model) => model.tokenizer === 'char')) {
  test(`${entry.name} covers every character of the typing set`, () => {
    const tokenizer = tokenizerOf(entry.file);
    assert.equal(tokenizer.kind, 'char');
    const vocabulary = new Set(tokenizer.tokens);
    const missing = [...asciiTypographic].filter((character) => !vocabulary.has(character));
    assert.deepEqual(missing, [], `${entry.file} cannot encode ${JSON.stringify(missing.join(''))}`);
  });
}
