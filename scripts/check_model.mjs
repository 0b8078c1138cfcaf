// node scripts/check_model.mjs NAME EVAL_JSON [TOLERANCE]: checks a `tinylm eval` result for the shipped model
// NAME against models/index.json and its card — the loss within TOLERANCE (relative, default 0.02) of the
// recorded val_loss, which the card must state too. Exits 1 with the figures when it is not.
import { readFileSync } from 'node:fs';

const [name, evalJson, toleranceText = '0.02'] = process.argv.slice(2);
if (!name || !evalJson) {
  console.error('usage: node scripts/check_model.mjs NAME EVAL_JSON [TOLERANCE]');
  process.exit(2);
}
const root = new URL('../', import.meta.url);
const index = JSON.parse(readFileSync(new URL('models/index.json', root), 'utf8'));
const entry = index.find((model) => model.name === name);
if (!entry) {
  console.error(`models/index.json has no model named '${name}'`);
  process.exit(1);
}
const card = readFileSync(new URL(`models/${entry.card}`, root), 'utf8');
const recorded = entry.val_loss;
if (!card.includes(recorded.toFixed(4))) {
  console.error(`models/${entry.card} does not state the index's validation loss ${recorded.toFixed(4)}`);
  process.exit(1);
}
const measured = JSON.parse(evalJson).loss;
const tolerance = Number(toleranceText);
const change = (measured - recorded) / recorded;
const verdict = Math.abs(change) <= tolerance ? 'ok' : 'FAILED';
console.log(`   ${name}: validation loss ${measured.toFixed(4)} vs recorded ${recorded.toFixed(4)} ` +
  `(${(100 * change).toFixed(2)}%, tolerance ±${(100 * tolerance).toFixed(1)}%): ${verdict}`);
process.exit(verdict === 'ok' ? 0 : 1);
