/**
 * @module amp/autocast — `autocast({ dtype }, fn)`: matmul, F.linear and conv2d compute on
 * 16-bit values inside `fn`, as torch.autocast does on CUDA.
 *
 * There is no 16-bit dtype in the backends, so a "16-bit tensor" here is a float32 tensor
 * holding float16 (or bfloat16) values: inside the scope, `matmul` and `linear` (and
 * `conv2d`, which runs on matmul) round their float32 operands with `round_f16` /
 * `round_bf16`, pass the `precision` hint to the backend (webgpu with shader-f16 multiplies
 * in f16; the others compute in f32 on the rounded values, accumulating in f32 as CUDA's
 * f16 GEMMs do), and round the result, as torch returns a half tensor. Weights stay
 * float32 masters: only the values read by the op are rounded.
 *
 * Gradients: the cast's gradient is the cast back, so the gradient reaching a weight is
 * the 16-bit gradient as a float32 (each autocast cast rounds the incoming gradient to
 * the 16-bit format, as torch's f16 backward GEMMs produce f16 gradients). That is what
 * makes f16 gradients underflow without loss scaling, and overflow (to ±Infinity, which
 * GradScaler skips) with too large a scale.
 *
 * What differs from torch: ops outside the autocast lists (activations, losses,
 * elementwise math) run in float32 on the 16-bit values, where torch runs some of them in
 * f16 (rounding their outputs). float64 tensors are left alone, as torch leaves them.
 */
import { ValueError } from '../errors.ts';
import { withAutocastDType, type AutocastDType } from '../tensor/index.ts';

export { autocastDType, autocastPrecision, castTo16, type AutocastDType } from '../tensor/index.ts';

/** Options of {@link autocast}. */
export interface AutocastOptions {
  /** 'float16' (torch's default on CUDA) or 'bfloat16'. */
  readonly dtype: AutocastDType;
  /** false runs `fn` without autocast (default true), as torch's `enabled=False`. */
  readonly enabled?: boolean;
}

/**
 * Runs `fn` (sync or async) with matmul, linear and conv2d computing on 16-bit values.
 * Like `noGrad`, the scope is a global mode: concurrent async work started inside it and
 * still running after it ends does not see it.
 * @example
 * const loss = autocast({ dtype: 'bfloat16' }, () => F.mseLoss(model.forward(x), x));
 */
export function autocast<T>(options: AutocastOptions, fn: () => T): T {
  const dtype = options.dtype;
  if (dtype !== 'float16' && dtype !== 'bfloat16') {
    throw new ValueError(`autocast: unsupported dtype; expected 'float16' or 'bfloat16', got ${JSON.stringify(dtype)}`);
  }
  return withAutocastDType(options.enabled === false ? null : dtype, fn);
}
