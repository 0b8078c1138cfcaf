// A downloaded file's body held whole in memory as it arrives: how fetch_files.ts reads the small files (config,
// tokenizer), and every file in Node, where the Cache API is missing or off, or where it refused a weights file.

// A body's chunks as they arrive, each added to `body`: read in place into its buffer of the declared length (a BYOB
// reader) where the stream allows it, so no chunk of a large file is allocated only to be copied and dropped (in
// Chromium, a 523 MB file read chunk by chunk into one buffer peaked 160-270 MB above it before the chunks were
// collected, read in place 15 MB); else chunk by chunk.
export class BodyReader {
  private byob: ReadableStreamBYOBReader | undefined;
  private chunks: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(private readonly stream: ReadableStream<Uint8Array>, private readonly body: BodyBytes) {
    try {
      this.byob = body.spare() ? stream.getReader({ mode: 'byob' }) : undefined;
    } catch {
      this.byob = undefined;  // not a byte stream
    }
    if (!this.byob) this.chunks = stream.getReader();
  }

  // The next chunk, already added to the body; undefined at the end.
  async read(): Promise<Uint8Array | undefined> {
    if (this.byob) {
      const spare = this.body.spare();
      if (spare) {
        const { done, value } = await this.byob.read(spare);
        if (value) this.body.filled(value);  // the read moved the buffer: even an empty answer carries it back
        return done ? undefined : value;
      }
      // Full: whether anything follows (a server sending more than it declared) is read chunk by chunk.
      this.byob.releaseLock();
      this.byob = undefined;
      this.chunks = this.stream.getReader();
    }
    const { done, value } = await this.chunks!.read();
    if (done) return undefined;
    this.body.push(value);
    return value;
  }

  async cancel(): Promise<void> {
    await (this.byob ?? this.chunks)!.cancel().catch(() => {});
  }
}

// A body's bytes as they arrive: straight into one buffer of the declared length, so a large file is never held
// twice (as its chunks and, at the end of its download, their concatenation); as chunks when no length was
// declared, the length is not allocatable, or more arrives than declared.
export class BodyBytes {
  received = 0;
  private whole: Uint8Array | undefined;
  private chunks: Uint8Array[] = [];

  // The part of the declared length still to fill, for a reader that fills it in place; undefined once full or when
  // the bytes are kept as chunks.
  spare(): Uint8Array | undefined {
    return this.whole && this.chunks.length === 0 && this.received < this.whole.byteLength ? this.whole.subarray(this.received) : undefined;
  }

  // A read in place filled `view`, the start of spare(), whose buffer the read moved to a new ArrayBuffer.
  filled(view: Uint8Array): void {
    this.whole = new Uint8Array(view.buffer);
    this.received += view.byteLength;
  }

  constructor(declared: number | undefined) {
    try {
      this.whole = declared === undefined ? undefined : new Uint8Array(declared);
    } catch {
      this.whole = undefined;  // a length no buffer can have: the body is the judge of its length
    }
  }

  push(chunk: Uint8Array): void {
    if (this.whole && this.received + chunk.byteLength <= this.whole.byteLength) {
      this.whole.set(chunk, this.received);
    } else {
      if (this.whole) this.chunks = [this.whole.subarray(0, this.received)];
      this.whole = undefined;
      this.chunks.push(chunk);
    }
    this.received += chunk.byteLength;
  }

  first(length: number): Uint8Array {
    return this.whole ? this.whole.subarray(0, length) : concatenate(this.chunks, length);
  }

  all(): Uint8Array {
    if (this.whole) return this.received === this.whole.byteLength ? this.whole : this.whole.slice(0, this.received);
    return concatenate(this.chunks, this.received);
  }
}

// The first `length` bytes of the chunks, in one array (the chunk itself when it holds them all).
export function concatenate(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length > 0 && chunks[0].byteLength >= length) return chunks[0].subarray(0, length);
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    if (offset >= length) break;
    const part = chunk.subarray(0, length - offset);
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}
