// A tiny model of the playground default's kind, built in memory for bench/wasm/cold_start.mjs: a 2-layer char LSTM
// stored in int8 (per-row F32 scales), 12 tokens, embed 16, hidden 64, its weights a fixed pattern. Loading and
// sampling it runs the engine's code on the default model's path (safetensors and JSON parsing, int8 → f32, the
// LSTM step, sampling with alternatives) at a fraction of the arithmetic.
const tokens = ['<unk>', '\n', ' ', '.', 'C', 'I', 'a', 'e', 'h', 'l', 'm', 's'];
const embed = 16;
const hidden = 64;
const layers = 2;

// A safetensors file: an 8-byte little-endian header length, the JSON header, then each tensor's bytes in order.
export function tinyModelFile() {
  const int8Matrix = (name, rows, columns) => [
    { name, dtype: 'I8', shape: [rows, columns] },
    { name: `${name}.scale`, dtype: 'F32', shape: [rows] },
  ];
  const tensors = [...int8Matrix('embed.weight', tokens.length, embed)];
  for (let layer = 0; layer < layers; layer++) {
    tensors.push(
      ...int8Matrix(`rnn.weight_ih_l${layer}`, 4 * hidden, layer === 0 ? embed : hidden),
      ...int8Matrix(`rnn.weight_hh_l${layer}`, 4 * hidden, hidden),
      { name: `rnn.bias_ih_l${layer}`, dtype: 'F32', shape: [4 * hidden] },
      { name: `rnn.bias_hh_l${layer}`, dtype: 'F32', shape: [4 * hidden] },
    );
  }
  tensors.push(...int8Matrix('head.weight', tokens.length, hidden), { name: 'head.bias', dtype: 'F32', shape: [tokens.length] });

  const header = {
    __metadata__: {
      config: JSON.stringify({ arch: 'lstm', dropout: 0, embed_size: embed, hidden_size: hidden, num_layers: layers, vocab_size: tokens.length }),
      format: 'tinylm',
      format_version: '1',
      tokenizer: JSON.stringify({ eos: false, kind: 'char', lowercase: false, tokens, version: 1 }),
    },
  };
  let offset = 0;
  const sized = tensors.map((tensor) => {
    const bytes = tensor.shape.reduce((product, dim) => product * dim, 1) * (tensor.dtype === 'I8' ? 1 : 4);
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
    return { ...tensor, bytes };
  });
  const json = new TextEncoder().encode(JSON.stringify(header));
  const file = new Uint8Array(8 + json.length + offset);
  const view = new DataView(file.buffer);
  view.setUint32(0, json.length, true);  // the high half stays 0
  file.set(json, 8);
  let at = 8 + json.length;
  for (const tensor of sized) {
    if (tensor.dtype === 'I8') {
      for (let i = 0; i < tensor.bytes; i++) file[at + i] = (((i * 37 + 11) % 255) - 127) & 0xff;
    } else {
      const scale = tensor.name.endsWith('.scale');
      for (let i = 0; i < tensor.bytes / 4; i++) view.setFloat32(at + 4 * i, scale ? 0.01 : ((i % 7) - 3) * 0.05, true);
    }
    at += tensor.bytes;
  }
  return file;
}
