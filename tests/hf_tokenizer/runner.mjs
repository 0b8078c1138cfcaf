// The Node side of the native runner (hf_tokenizer_runner.cpp): writes inputs, runs it, reads outputs. Texts go in
// as UTF-8 bytes (Buffer) so invalid byte strings reach the C++ encoder unchanged.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function runnerPath() {
  const at = process.argv.indexOf('--runner');
  if (at < 0 || !process.argv[at + 1]) throw new Error('pass --runner PATH (ctest does)');
  return process.argv[at + 1];
}

export class Runner {
  constructor(tokenizerJson, configJson = null) {
    this.dir = mkdtempSync(join(tmpdir(), 'tinylm-hf-'));
    this.tokenizerPath = join(this.dir, 'tokenizer.json');
    writeFileSync(this.tokenizerPath, typeof tokenizerJson === 'string' ? tokenizerJson : JSON.stringify(tokenizerJson));
    this.configPath = '-';
    if (configJson !== null) {
      this.configPath = join(this.dir, 'tokenizer_config.json');
      writeFileSync(this.configPath, JSON.stringify(configJson));
    }
  }

  run(command, input) {
    const inputPath = join(this.dir, 'input.bin');
    const outputPath = join(this.dir, 'output.bin');
    writeFileSync(inputPath, input);
    execFileSync(runnerPath(), [command, this.tokenizerPath, this.configPath, inputPath, outputPath],
                 { stdio: ['ignore', 'inherit', 'inherit'] });
    return readFileSync(outputPath);
  }

  // texts: Buffers or strings → arrays of ids.
  encode(texts, { addSpecialTokens = true } = {}) {
    const parts = [];
    for (const text of texts) {
      const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      parts.push(length, bytes);
    }
    const output = this.run(addSpecialTokens ? 'encode' : 'encode-no-special', Buffer.concat(parts));
    const result = [];
    for (let offset = 0; offset < output.length;) {
      const count = output.readUInt32LE(offset);
      offset += 4;
      const ids = [];
      for (let index = 0; index < count; ++index, offset += 4) ids.push(output.readInt32LE(offset));
      result.push(ids);
    }
    return result;
  }

  // sequences of ids → [{ text, pieces }]: decode(ids) as a Buffer, and token_bytes(id) for each id (Buffers).
  decode(sequences) {
    const parts = [];
    for (const ids of sequences) {
      const buffer = Buffer.alloc(4 + 4 * ids.length);
      buffer.writeUInt32LE(ids.length);
      ids.forEach((id, index) => buffer.writeInt32LE(id, 4 + 4 * index));
      parts.push(buffer);
    }
    const output = this.run('decode', Buffer.concat(parts));
    let offset = 0;
    const take = () => {
      const length = output.readUInt32LE(offset);
      const bytes = output.subarray(offset + 4, offset + 4 + length);
      offset += 4 + length;
      return bytes;
    };
    return sequences.map((ids) => ({ text: take(), pieces: ids.map(() => take()) }));
  }

  classify(codePoints) {
    const input = Buffer.alloc(4 * codePoints.length);
    codePoints.forEach((codePoint, index) => input.writeUInt32LE(codePoint, 4 * index));
    return [...this.run('classify', input)];
  }

  info() {
    return JSON.parse(this.run('info', Buffer.alloc(0)).toString('utf8'));
  }

  close() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
