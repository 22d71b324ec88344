/**
 * @module tensor/autocast-mode — the autocast mode that matmul and linear read, below the
 * tensor layer so that `linalg.ts` needs nothing from `amp/`.
 *
 * `amp/autocast.ts` holds the user's `autocast({ dtype }, fn)`; it sets this mode for the
 * length of `fn` through {@link withAutocastDType}. What the mode means for each op is
 * documented there.
 */
import { record, runOp, type Tensor } from './tensor.ts';

/** The 16-bit formats autocast computes in, named as torch's dtypes. */
export type AutocastDType = 'float16' | 'bfloat16';

let current: AutocastDType | null = null;

/**
 * Runs `fn` (sync or async) with the autocast mode set to `dtype` (null: off), restoring the
 * previous mode when `fn` returns, throws, or its promise settles.
 * @example withAutocastDType('bfloat16', () => autocastDType()) // 'bfloat16'
 */
export function withAutocastDType<T>(dtype: AutocastDType | null, fn: () => T): T {
  const prev = current;
  current = dtype;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    current = prev;
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      current = prev;
    }) as T;
  }
  current = prev;
  return result;
}

/**
 * The 16-bit format autocast computes in now, or null outside autocast.
 * @example autocast({ dtype: 'float16' }, () => autocastDType()) // 'float16'
 */
export function autocastDType(): AutocastDType | null {
  return current;
}

/**
 * The matmul `precision` hint for an op on `dtype` now: 'f16' or 'bf16' inside autocast for
 * float32, else null (float64 is not autocast, as in torch).
 * @example autocast({ dtype: 'bfloat16' }, () => autocastPrecision('float32')) // 'bf16'
 */
export function autocastPrecision(dtype: string): 'f16' | 'bf16' | null {
  if (current === null || dtype !== 'float32') return null;
  return current === 'float16' ? 'f16' : 'bf16';
}

/**
 * `x` cast to the 16-bit format `precision` (a float32 tensor holding its values), whose
 * gradient is the incoming gradient cast to that format too (torch's ToCopyBackward of a
 * 16-bit gradient). Autocast's matmul and linear call it on their operands and result.
 * @example castTo16(w, 'f16') // w's values rounded to float16
 */
export function castTo16(x: Tensor, precision: 'f16' | 'bf16'): Tensor {
  const op = precision === 'f16' ? 'round_f16' : 'round_bf16';
  const out = runOp(op, x.backend, x.dtype, x.shape, [x.view_()], {});
  return record(out, 'ToCopy', [x], (g) => [runOp(op, g.backend, g.dtype, g.shape, [g.view_()], {})]);
}
