// The precision a model file stores its weight matrices in, read from its safetensors header (8-byte length, then
// JSON: each tensor's dtype), so a download or a save can keep the model's own precision: I8 (with per-row F32
// scales) → 'int8', F16 → 'f16', otherwise 'f32'.
export type Precision = 'int8' | 'f16' | 'f32';

export function filePrecision(bytes: Uint8Array): Precision {
  if (bytes.length < 8) return 'f32';
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (length <= 0 || 8 + length > bytes.length) return 'f32';
  try {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as Record<string, { dtype?: string }>;
    const dtypes = new Set(Object.entries(header).filter(([name]) => name !== '__metadata__').map(([, tensor]) => tensor.dtype));
    return dtypes.has('I8') ? 'int8' : dtypes.has('F16') ? 'f16' : 'f32';
  } catch {
    return 'f32';
  }
}

export const precisionName: Record<Precision, string> = { int8: 'int8', f16: 'half precision (F16)', f32: 'full precision (F32)' };
