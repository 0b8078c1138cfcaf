// Whether the engine runs its relaxed SIMD build: each engine (single-thread and threaded) ships a second .wasm,
// <engine>_relaxed.wasm, whose kernels' multiply-adds are relaxed SIMD's f32x4.relaxed_madd (wasm/wasm.cmake). The
// engine compiles it to one fused instruction where the CPU has FMA (x86 FMA3, ARM), which roughly doubles the
// matrix products' arithmetic peak; WASM SIMD proper has no fused multiply-add. The same glue loads either .wasm.
//
// It is chosen where WebAssembly.validate accepts a module using relaxed_madd (Chromium 114 and later by default;
// Node 20 only with --experimental-wasm-relaxed-simd; Node 22 and later by default), unless
// TinyLM.configure({ relaxedSimd: false }) says otherwise. relaxed_madd may round once (fused) on one machine and
// twice on another, so results can differ across machines, and from the standard build, in the last bits; on one
// machine they stay the same at every thread count. Only the chosen .wasm is downloaded.
import { TinyLMError } from './errors.js';

const v128Zero = [0xfd, 12, ...new Array<number>(16).fill(0)];  // v128.const 0
// A module whose one function returns relaxed_madd(0, 0, 0): valid only where relaxed SIMD is.
const relaxedMaddProbe = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0,  // "\0asm", version 1
  1, 5, 1, 96, 0, 1, 123,  // types: () → v128
  3, 2, 1, 0,  // functions: one of type 0
  10, 61, 1, 59, 0, ...v128Zero, ...v128Zero, ...v128Zero, 0xfd, 0x85, 0x02, 11,  // code: f32x4.relaxed_madd, end
]);

let allowed = true;

export function setRelaxedSimdAllowed(value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TinyLMError('INVALID_ARGUMENT', `option relaxedSimd must be true or false, got ${String(value)}`);
  }
  allowed = value ?? true;
}

export function relaxedSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(relaxedMaddProbe);
  } catch {
    return false;
  }
}

// The next engine's choice: relaxed where it validates, unless configure() turned it off.
export function relaxedSimdChosen(): boolean {
  return allowed && relaxedSimdSupported();
}
