/**
 * @module nn/init — in-place initialisers with torch.nn.init's names and formulas.
 *
 * Every draw comes from the default generator (seeded by `manualSeed`) unless a
 * `generator` is given, so initialisation repeats exactly.
 */
import { noGrad } from '../autograd.ts';
import { allocArray } from '../dtype.ts';
import { ValueError } from '../errors.ts';
import { defaultGenerator, type Generator } from '../random.ts';
import { Tensor } from '../tensor/index.ts';

/** Options of the random initialisers. */
export interface InitOptions {
  /** The generator to draw from (default: the default generator). */
  readonly generator?: Generator;
}

/** Nonlinearities that `calculateGain` knows, as torch's names. */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

/** Fan mode of the Kaiming initialisers. */
export type FanMode = 'fan_in' | 'fan_out';

/** Options of the Kaiming initialisers (torch's defaults: a 0, fan_in, leaky_relu). */
export interface KaimingOptions extends InitOptions {
  readonly a?: number;
  readonly mode?: FanMode;
  readonly nonlinearity?: Nonlinearity;
}

/** Overwrites `t`'s elements with `values` (row-major), outside the graph. */
function fill(t: Tensor, values: ArrayLike<number>): Tensor {
  const data = allocArray(t.dtype, values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i]!;
  noGrad(() => {
    const src = Tensor.fromArray(t.backend, t.dtype, t.shape, data);
    t.copy_(src);
    src.dispose();
  });
  return t;
}

/**
 * The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain.
 * @example calculateGain('relu') // Math.SQRT2
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'conv_transpose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new ValueError(
        `calculateGain: unsupported nonlinearity; expected one of linear, conv*, sigmoid, tanh, relu, leaky_relu, selu, got ${String(nonlinearity)}`,
      );
  }
}

/**
 * Fan in and fan out of a weight `[out, in, ...kernel]`, as torch's `_calculate_fan_in_and_fan_out`.
 * @example calculateFanInAndFanOut(zeros([64, 784])) // { fanIn: 784, fanOut: 64 }
 */
export function calculateFanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.dim() < 2) {
    throw new ValueError(
      `calculateFanInAndFanOut: fan in and fan out can not be computed for a tensor with fewer than 2 dims; expected rank >= 2, got [${t.shape.join(',')}]`,
    );
  }
  let receptive = 1;
  for (let i = 2; i < t.dim(); i++) receptive *= t.shape[i]!;
  return { fanIn: t.shape[1]! * receptive, fanOut: t.shape[0]! * receptive };
}

/**
 * Fills `t` with U(a, b), in place; returns `t`.
 * @example uniform_(zeros([3]), -1, 1)
 */
export function uniform_(t: Tensor, a = 0, b = 1, options: InitOptions = {}): Tensor {
  const u = (options.generator ?? defaultGenerator).uniform(t.numel());
  for (let i = 0; i < u.length; i++) u[i] = a + (b - a) * u[i]!;
  return fill(t, u);
}

/**
 * Fills `t` with N(mean, std²), in place; returns `t`.
 * @example normal_(zeros([3]), 0, 0.02)
 */
export function normal_(t: Tensor, mean = 0, std = 1, options: InitOptions = {}): Tensor {
  const z = (options.generator ?? defaultGenerator).normal(t.numel());
  for (let i = 0; i < z.length; i++) z[i] = mean + std * z[i]!;
  return fill(t, z);
}

/** Fills `t` with `value`, in place; returns `t`. */
export function constant_(t: Tensor, value: number): Tensor {
  noGrad(() => t.fill_(value));
  return t;
}

/** Fills `t` with zeros, in place; returns `t`. */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/** Fills `t` with ones, in place; returns `t`. */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

function kaimingStd(op: string, t: Tensor, options: KaimingOptions): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const mode = options.mode ?? 'fan_in';
  if (mode !== 'fan_in' && mode !== 'fan_out') {
    throw new ValueError(`${op}: unknown mode; expected 'fan_in' or 'fan_out', got ${JSON.stringify(mode)}`);
  }
  const fan = mode === 'fan_in' ? fanIn : fanOut;
  return calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0) / Math.sqrt(fan);
}

/**
 * He uniform: U(−bound, bound) with bound = gain·√(3 / fan), as torch.nn.init.kaiming_uniform_.
 * `Linear` uses it with `a: √5`, which gives bound = 1/√in_features.
 * @example kaimingUniform_(w, { a: Math.sqrt(5) })
 */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd('kaimingUniform_', t, options);
  return uniform_(t, -bound, bound, options);
}

/** He normal: N(0, (gain/√fan)²), as torch.nn.init.kaiming_normal_. */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd('kaimingNormal_', t, options), options);
}

/** Glorot uniform: U(−a, a) with a = gain·√(6 / (fan_in + fan_out)), as torch.nn.init.xavier_uniform_. */
export function xavierUniform_(t: Tensor, options: InitOptions & { readonly gain?: number } = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const a = (options.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a, options);
}

/** Glorot normal: N(0, gain²·2 / (fan_in + fan_out)), as torch.nn.init.xavier_normal_. */
export function xavierNormal_(t: Tensor, options: InitOptions & { readonly gain?: number } = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return normal_(t, 0, (options.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), options);
}
