/**
 * @module gradcheck — compares autograd's gradients with central finite differences, in
 * float64, as torch.autograd.gradcheck does.
 *
 * The function's output is reduced to a scalar with fixed pseudo-random weights
 * (L = Σ w·f(x)), so every output element's gradient is checked at once, not only their
 * sum. Numeric: dL/dx_j ≈ (L(x + eps·e_j) − L(x − eps·e_j)) / (2·eps).
 */
import type { Backend } from '../../runtime/backend.ts';
import { noGrad } from '../../runtime/autograd.ts';
import { tensor, type Tensor } from '../../runtime/tensor/index.ts';
import { tidy } from '../../runtime/memory.ts';

/** Options of `gradcheck`; the defaults suit float64 and smooth functions. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  readonly eps?: number;
  /** Relative tolerance against the numeric gradient (default 1e-5). */
  readonly rtol?: number;
  /** Absolute tolerance (default 1e-6). */
  readonly atol?: number;
}

/** One input: its values and shape; `requiresGrad: false` for inputs held constant (indices, masks). */
export interface GradInput {
  readonly shape: readonly number[];
  readonly data: readonly number[];
  readonly dtype?: 'float64' | 'int32' | 'bool';
  readonly requiresGrad?: boolean;
}

/** Weights in [0.5, 1.5), fixed per length so failures replay. */
function weights(n: number): number[] {
  let s = 0x2545f491;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(0.5 + (s >>> 8) / 16777216);
  }
  return out;
}

function make(
  backend: Backend,
  input: GradInput,
  data: readonly number[],
  requiresGrad: boolean,
  float: 'float32' | 'float64' = 'float64',
): Tensor {
  const dtype = input.dtype === undefined || input.dtype === 'float64' ? float : input.dtype;
  const t = tensor([...data], { dtype, backend }).reshape([...input.shape]);
  return requiresGrad ? t.requiresGrad_() : t;
}

function wants(input: GradInput): boolean {
  return (input.dtype ?? 'float64') === 'float64' && input.requiresGrad !== false;
}

/**
 * The analytic gradient of L = Σ w·f(xs) for each input (null for those without one),
 * with float inputs made as `float` on `backend`.
 * @example await analyticGrads(wasm, (x) => x.exp(), [{ shape: [2], data: [0, 1] }], 'float32')
 */
export async function analyticGrads(
  backend: Backend,
  fn: (...xs: Tensor[]) => Tensor,
  inputs: readonly GradInput[],
  float: 'float32' | 'float64' = 'float64',
): Promise<(number[] | null)[]> {
  return tidy(async () => {
    const xs = inputs.map((inp) => make(backend, inp, inp.data, wants(inp), float));
    const out = fn(...xs);
    if (!out.requiresGrad)
      throw new Error('gradcheck: the output does not require grad; expected a function of the inputs, got a constant');
    const w = tensor(weights(out.numel()), { dtype: out.dtype, backend }).reshape([...out.shape]);
    out.mul(w).sum().backward();
    const grads: (number[] | null)[] = [];
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      if (!wants(inputs[i]!)) {
        grads.push(null);
        continue;
      }
      if (x.grad === null)
        throw new Error(
          `gradcheck: input ${i} got no gradient; expected a tensor of shape [${x.shape.join(',')}], got null`,
        );
      if (x.grad.shape.join() !== x.shape.join()) {
        throw new Error(
          `gradcheck: input ${i}'s gradient has the wrong shape; expected [${x.shape.join(',')}], got [${x.grad.shape.join(',')}]`,
        );
      }
      grads.push(Array.from(await x.grad.data()));
    }
    for (const x of xs) x.dispose();
    return grads;
  });
}

/** L = Σ w·f(xs), as a plain number, without recording a graph. */
function lossValue(
  backend: Backend,
  fn: (...xs: Tensor[]) => Tensor,
  inputs: readonly GradInput[],
  datas: readonly (readonly number[])[],
): number {
  return tidy(() =>
    noGrad(() => {
      const xs = inputs.map((inp, i) => make(backend, inp, datas[i]!, false));
      const out = fn(...xs);
      const w = weights(out.numel());
      const y = out.dtype === 'float64' ? out : out.double();
      const value = y.contiguous().dataSync();
      let s = 0;
      for (let i = 0; i < value.length; i++) s += value[i]! * w[i]!;
      return s;
    }),
  );
}

/**
 * Throws unless the analytic gradient of `fn` at `inputs` matches central differences
 * for every element of every float64 input that requires grad. Needs a backend with
 * float64 and synchronous readback (the reference).
 * @example await gradcheck(reference, (x) => x.exp(), [{ shape: [3], data: [0.1, -0.2, 0.3] }]);
 */
export async function gradcheck(
  backend: Backend,
  fn: (...xs: Tensor[]) => Tensor,
  inputs: readonly GradInput[],
  options: GradcheckOptions = {},
): Promise<void> {
  const eps = options.eps ?? 1e-6;
  const rtol = options.rtol ?? 1e-5;
  const atol = options.atol ?? 1e-6;
  const analytic = await analyticGrads(backend, fn, inputs);
  for (let i = 0; i < inputs.length; i++) {
    const g = analytic[i];
    if (g === null || g === undefined) continue;
    const base = inputs[i]!.data;
    for (let j = 0; j < base.length; j++) {
      const at = (delta: number): number => {
        const datas = inputs.map((inp, k) => (k === i ? base.map((v, m) => (m === j ? v + delta : v)) : inp.data));
        return lossValue(backend, fn, inputs, datas);
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const a = g[j]!;
      if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
        throw new Error(
          `gradcheck: input ${i} element ${j}: analytic ${a} differs from numeric ${numeric} beyond rtol ${rtol}, atol ${atol}`,
        );
      }
    }
  }
}

/**
 * `n` values in [lo, hi] at least `gap` apart from each other and from every point in
 * `avoid` (kinks such as 0 for relu), deterministic per seed.
 * @example points(6, 1, { avoid: [0] })
 */
export function points(
  n: number,
  seed: number,
  options: { lo?: number; hi?: number; avoid?: readonly number[]; gap?: number } = {},
): number[] {
  const lo = options.lo ?? -2;
  const hi = options.hi ?? 2;
  const gap = options.gap ?? 0.02;
  const avoid = options.avoid ?? [];
  let s = (seed * 2654435761 + 12345) >>> 0;
  const out: number[] = [];
  let tries = 0;
  while (out.length < n) {
    if (++tries > 100000) throw new Error(`points: cannot place ${n} values ${gap} apart in [${lo}, ${hi}]`);
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = lo + ((s >>> 8) / 16777216) * (hi - lo);
    if (avoid.some((k) => Math.abs(v - k) < 0.05)) continue;
    if (out.some((u) => Math.abs(u - v) < gap)) continue;
    out.push(v);
  }
  return out;
}

/** A float64 input of `shape` filled by `points`. */
export function input(shape: readonly number[], seed: number, options: Parameters<typeof points>[2] = {}): GradInput {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: points(n, seed, options) };
}
