/**
 * @module nn/conv — Conv2d, as torch.nn.Conv2d (zero padding), over `F.conv2d`.
 */
import { type Tensor, backendOr, conv2d, zerosOn, type Size2 } from '../tensor/index.ts';
import { NotImplementedOpError, ValueError } from '../errors.ts';
import { kaimingUniform_, uniform_ } from './init.ts';
import { Module, Parameter, type FactoryOptions } from './module.ts';
import { pyTuple } from './repr.ts';

/** Options of `Conv2d` (torch's defaults). */
export interface Conv2dModuleOptions extends FactoryOptions {
  /** Window step (default 1). */
  readonly stride?: Size2;
  /** Zero padding on each side (default 0), or `'same'` / `'valid'`. */
  readonly padding?: Size2 | 'same' | 'valid';
  /** Spacing between kernel elements (default 1). */
  readonly dilation?: Size2;
  /** Channel groups (default 1); must divide both channel counts. */
  readonly groups?: number;
  /** Learn an additive bias (default true). */
  readonly bias?: boolean;
  /** Only `'zeros'` is implemented (default); the others throw. */
  readonly paddingMode?: 'zeros' | 'reflect' | 'replicate' | 'circular';
}

function pair(v: Size2): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/**
 * 2-D convolution, as torch.nn.Conv2d: weight `[out, in/groups, kH, kW]`, bias `[out]`,
 * both initialised as torch does (kaiming_uniform_ with a = √5, i.e. U(−1/√fanIn, 1/√fanIn)
 * with fanIn = in/groups·kH·kW, and the bias from the same range).
 * @example
 * const conv = new Conv2d(1, 32, 3);
 * conv.forward(randn([8, 1, 28, 28])).shape // [8, 32, 26, 26]
 * String(conv) // 'Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))'
 */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'same' | 'valid';
  readonly dilation: [number, number];
  readonly groups: number;
  readonly paddingMode: 'zeros';
  weight: Parameter;
  bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Size2, options: Conv2dModuleOptions = {}) {
    super();
    const groups = options.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1) {
      throw new ValueError(`Conv2d: groups must be a positive integer; expected >= 1, got ${groups}`);
    }
    if (inChannels % groups !== 0) {
      throw new ValueError(
        `Conv2d: in_channels must be divisible by groups; expected a multiple of ${groups}, got ${inChannels}`,
      );
    }
    if (outChannels % groups !== 0) {
      throw new ValueError(
        `Conv2d: out_channels must be divisible by groups; expected a multiple of ${groups}, got ${outChannels}`,
      );
    }
    const mode = options.paddingMode ?? 'zeros';
    if (mode !== 'zeros') {
      throw new NotImplementedOpError(
        `Conv2d: padding_mode '${mode}' is not implemented; expected 'zeros', got '${mode}'`,
      );
    }
    const padding = options.padding ?? 0;
    const stride = pair(options.stride ?? 1);
    if (padding === 'same' && (stride[0] !== 1 || stride[1] !== 1)) {
      throw new ValueError(
        `Conv2d: padding='same' is not supported for strided convolutions; expected stride 1, got [${stride.join(', ')}]`,
      );
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair(kernelSize);
    this.stride = stride;
    this.padding = typeof padding === 'string' ? padding : pair(padding);
    this.dilation = pair(options.dilation ?? 1);
    this.groups = groups;
    this.paddingMode = mode;
    const dtype = options.dtype ?? 'float32';
    const make = (shape: readonly number[]): Tensor => zerosOn(backendOr(options.backend), shape, dtype);
    this.weight = new Parameter(make([outChannels, inChannels / groups, ...this.kernelSize]));
    this.bias = options.bias === false ? null : new Parameter(make([outChannels]));
    this.resetParameters();
  }

  /** Draws new weights (and bias) from torch's default distributions. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias !== null) {
      const fanIn = (this.inChannels / this.groups) * this.kernelSize[0] * this.kernelSize[1];
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }

  forward(input: Tensor): Tensor {
    return conv2d(
      input,
      this.weight,
      this.bias,
      {
        stride: this.stride,
        padding: this.padding,
        dilation: this.dilation,
        groups: this.groups,
      },
      'Conv2d',
    );
  }

  override extraRepr(): string {
    // torch's _ConvNd.extra_repr: the defaults are left out.
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`;
    const p = this.padding;
    if (typeof p === 'string') s += `, padding=${p}`;
    else if (p[0] !== 0 || p[1] !== 0) s += `, padding=${pyTuple(p)}`;
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) s += `, dilation=${pyTuple(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ', bias=False';
    return s;
  }
}
