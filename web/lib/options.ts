// Checking numeric options on the main thread, before anything is sent to the engine, so a mistake is reported
// with the option's name and value (code 'INVALID_ARGUMENT') instead of as an engine failure.
import { TinyLMError } from './errors.js';

export interface NumberRule {
  min?: number;
  max?: number;
  exclusiveMin?: boolean;  // min itself is not allowed
  integer?: boolean;
}

// resolvedNumber('steps', options.steps, 100, { min: 1, integer: true }) → the value, or the default when undefined.
export function resolvedNumber(name: string, value: number | undefined, fallback: number, rule: NumberRule): number {
  if (value === undefined) return fallback;
  const problem =
    typeof value !== 'number' || !Number.isFinite(value)
      ? 'a finite number'
      : rule.integer && !Number.isInteger(value)
        ? 'an integer'
        : rule.min !== undefined && (rule.exclusiveMin ? value <= rule.min : value < rule.min)
          ? `${rule.exclusiveMin ? '>' : '≥'} ${rule.min}`
          : rule.max !== undefined && value > rule.max
            ? `≤ ${rule.max}`
            : undefined;
  if (problem) throw new TinyLMError('INVALID_ARGUMENT', `option ${name} must be ${problem}, got ${String(value)}`);
  return value;
}
