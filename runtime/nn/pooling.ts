/**
 * @module nn/pooling — MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, as in torch.nn.
 * Their reprs print the arguments as given (an int stays an int), as torch's do.
 */
import {
  adaptiveAvgPool2d,
  avgPool2d,
  maxPool2d,
  type AdaptiveSize,
  type AvgPool2dOptions,
  type MaxPool2dOptions,
  type Size2,
  type Tensor,
} from '../tensor/index.ts';
import { Module } from './module.ts';
import { pyBool } from './repr.ts';

/** An int or a tuple, as Python prints it (`2`, `(2, 3)`, `(None, 7)`). */
function pyArg(v: number | readonly (number | null)[]): string {
  if (typeof v === 'number') return String(v);
  return `(${v.map((x) => (x === null ? 'None' : String(x))).join(', ')})`;
}

/**
 * Max pooling, as torch.nn.MaxPool2d (stride defaults to the kernel size).
 * @example
 * const pool = new MaxPool2d(2);
 * pool.forward(randn([8, 32, 26, 26])).shape // [8, 32, 13, 13]
 * String(pool) // 'MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)'
 */
export class MaxPool2d extends Module {
  readonly kernelSize: Size2;
  readonly stride: Size2;
  readonly padding: Size2;
  readonly dilation: Size2;
  readonly ceilMode: boolean;

  constructor(kernelSize: Size2, options: MaxPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
    this.ceilMode = options.ceilMode ?? false;
  }

  forward(input: Tensor): Tensor {
    return maxPool2d(
      input,
      this.kernelSize,
      {
        stride: this.stride,
        padding: this.padding,
        dilation: this.dilation,
        ceilMode: this.ceilMode,
      },
      'MaxPool2d',
    );
  }

  override extraRepr(): string {
    return `kernel_size=${pyArg(this.kernelSize)}, stride=${pyArg(this.stride)}, padding=${pyArg(this.padding)}, dilation=${pyArg(this.dilation)}, ceil_mode=${pyBool(this.ceilMode)}`;
  }
}

/**
 * Average pooling, as torch.nn.AvgPool2d (stride defaults to the kernel size).
 * @example
 * new AvgPool2d(2).forward(randn([8, 3, 32, 32])).shape // [8, 3, 16, 16]
 * String(new AvgPool2d(2)) // 'AvgPool2d(kernel_size=2, stride=2, padding=0)'
 */
export class AvgPool2d extends Module {
  readonly kernelSize: Size2;
  readonly stride: Size2;
  readonly padding: Size2;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(kernelSize: Size2, options: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.ceilMode = options.ceilMode ?? false;
    this.countIncludePad = options.countIncludePad ?? true;
    this.divisorOverride = options.divisorOverride ?? null;
  }

  forward(input: Tensor): Tensor {
    return avgPool2d(
      input,
      this.kernelSize,
      {
        stride: this.stride,
        padding: this.padding,
        ceilMode: this.ceilMode,
        countIncludePad: this.countIncludePad,
        divisorOverride: this.divisorOverride,
      },
      'AvgPool2d',
    );
  }

  override extraRepr(): string {
    // torch's AvgPool2d.extra_repr prints only these three.
    return `kernel_size=${pyArg(this.kernelSize)}, stride=${pyArg(this.stride)}, padding=${pyArg(this.padding)}`;
  }
}

/**
 * Adaptive average pooling to a fixed size, as torch.nn.AdaptiveAvgPool2d
 * (null in a size keeps the input's).
 * @example
 * new AdaptiveAvgPool2d(1).forward(randn([8, 64, 7, 7])).shape // [8, 64, 1, 1]
 * String(new AdaptiveAvgPool2d([5, 7])) // 'AdaptiveAvgPool2d(output_size=(5, 7))'
 */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: AdaptiveSize;

  constructor(outputSize: AdaptiveSize) {
    super();
    this.outputSize = outputSize;
  }

  forward(input: Tensor): Tensor {
    return adaptiveAvgPool2d(input, this.outputSize, 'AdaptiveAvgPool2d');
  }

  override extraRepr(): string {
    return `output_size=${pyArg(this.outputSize)}`;
  }
}
