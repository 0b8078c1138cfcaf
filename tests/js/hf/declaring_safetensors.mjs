// A safetensors file whose header declares BF16 tensors of the given element counts over `dataBytes` of zeros: a
// weights file that claims more than it holds, for the tests that a model too large is refused from its header
// alone, before the rest of it downloads (tests/js/hf_early_size, tests/e2e/hf_cache_stream).
export function safetensorsDeclaring(tensors, dataBytes) {
  const header = {};
  let offset = 0;
  for (const [name, count] of tensors) {
    header[name] = { dtype: 'BF16', shape: [count], data_offsets: [offset, offset + 2 * count] };
    offset += 2 * count;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.byteLength));
  return Buffer.concat([length, json, Buffer.alloc(dataBytes)]);
}
