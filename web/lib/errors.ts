// The errors the package throws. Every failure a user can meet is a TinyLMError with a stable `code`
// (see ErrorCode in protocol.ts) and a message that names the problem, the value and what to do. Cancellation is
// an AbortError (also a TinyLMError, code 'ABORTED', name 'AbortError'), so both `error.name === 'AbortError'`
// checks and `instanceof TinyLMError` work.
import type { ErrorCode, WireError } from './protocol.js';

export class TinyLMError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'TinyLMError';
    this.code = code;
  }
}

export class AbortError extends TinyLMError {
  constructor(message = 'the operation was cancelled') {
    super('ABORTED', message);
    this.name = 'AbortError';
  }
}

export function toWireError(error: unknown): WireError {
  if (error instanceof TinyLMError) {
    return { name: error instanceof AbortError ? 'AbortError' : 'TinyLMError', code: error.code, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  const engineCode = (error as { code?: unknown } | null)?.code;
  const code = engineCode === 'OUT_OF_MEMORY' || engineCode === 'MODEL_TOO_LARGE' ? engineCode : 'ENGINE_ERROR';
  return { name: 'TinyLMError', code, message };
}

export function fromWireError(wire: WireError): TinyLMError {
  return wire.name === 'AbortError' ? new AbortError(wire.message) : new TinyLMError(wire.code, wire.message);
}
