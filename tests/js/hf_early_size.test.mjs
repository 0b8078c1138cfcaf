// A Hugging Face checkpoint too large for the engine is refused while its weights start to download: the package
// reads each safetensors header from the first bytes that arrive (hf/fetch_files.ts, checkpoint_size.ts) and stops
// the download there, naming what the model needs, the engine's cap and a weights form that would fit. The folder
// here is GPT-2's with a model.safetensors whose header declares 4.5 GB of float32 weights (four BF16 tensors of
// 280 M values) over 64 MiB of data: served in full it would take seconds and then fail in the engine.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { checkpoints } from './hf/checkpoints.mjs';
import { startHub } from './hf/hub_server.mjs';
import { safetensorsDeclaring } from './hf/declaring_safetensors.mjs';
import { TinyLM, tinylmError } from './helpers.mjs';

const DATA_BYTES = 64 << 20;
let hub, folder;

before(async () => {
  const made = checkpoints();
  folder = join(mkdtempSync(join(tmpdir(), 'tinylm-hf-huge-')), 'huge');
  cpSync(made.folders.gpt2, folder, { recursive: true });
  writeFileSync(join(folder, 'model.safetensors'),
    safetensorsDeclaring([['a', 280e6], ['b', 280e6], ['c', 280e6], ['d', 280e6]], DATA_BYTES));
  hub = await startHub({ 'test/huge': folder });
});

after(async () => {
  await hub?.close();
  rmSync(join(folder, '..'), { recursive: true, force: true });
  await TinyLM.shutdown();
});

test('a checkpoint too large for the engine is refused from its header, before the weights download', async () => {
  const weightsServed = () => hub.bytesServed;
  const before = weightsServed();
  await assert.rejects(TinyLM.load('hf:test/huge', { hubHost: hub.host, cache: false }),
    tinylmError('MODEL_TOO_LARGE', "{ weights: 'f16' }"));
  const served = weightsServed() - before;
  // config.json and tokenizer files (about 2 MB) plus what was in flight when the download stopped.
  assert.ok(served < 2 * 1024 * 1024 + DATA_BYTES / 4, `${served} bytes served of a ${DATA_BYTES}-byte weights file`);

  // As int8 it would fit: the download goes on, and the engine then reads the file and refuses its tensors.
  const whole = weightsServed();
  await assert.rejects(TinyLM.load('hf:test/huge', { hubHost: hub.host, cache: false, weights: 'int8' }),
    tinylmError('INVALID_MODEL_FILE'));
  assert.ok(weightsServed() - whole > DATA_BYTES);
  // The engine is unharmed.
  assert.ok((await TinyLM.memory()).maximum > 0);
});
