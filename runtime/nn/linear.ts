/**
 * @module nn/linear — Linear and Identity, as in torch.nn.
 */
import { ShapeError } from '../errors.ts';
import { type Tensor, backendOr, linear, zerosOn } from '../tensor/index.ts';
import { shapeString } from '../shape.ts';
import { kaimingUniform_, uniform_ } from './init.ts';
import { Module, Parameter, type FactoryOptions } from './module.ts';
import { pyBool } from './repr.ts';

/** Options of `Linear`. */
export interface LinearOptions extends FactoryOptions {
  /** Learn an additive bias (default true). */
  readonly bias?: boolean;
}

/**
 * y = x·Wᵀ + b, as torch.nn.Linear: weight `[out, in]`, bias `[out]`, initialised as
 * torch does (kaiming_uniform_ with a = √5, i.e. U(−1/√in, 1/√in), then the bias
 * from U(−1/√in, 1/√in)), drawn from the default generator.
 * @example
 * const fc = new Linear(784, 64);
 * fc.forward(randn([32, 784])).shape // [32, 64]
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const dtype = options.dtype ?? 'float32';
    const backend = options.backend;
    const make = (shape: readonly number[]): Tensor => zerosOn(backendOr(backend), shape, dtype);
    this.weight = new Parameter(make([outFeatures, inFeatures]));
    this.bias = options.bias === false ? null : new Parameter(make([outFeatures]));
    this.resetParameters();
  }

  /** Draws new weights (and bias) from torch's default distributions. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias !== null) {
      const bound = this.inFeatures > 0 ? 1 / Math.sqrt(this.inFeatures) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }

  forward(input: Tensor): Tensor {
    if (input.dim() === 0 || input.shape[input.dim() - 1] !== this.inFeatures) {
      throw new ShapeError(
        `Linear: input features differ; expected x[-1] == ${this.inFeatures}, got ${shapeString(input.shape)}`,
      );
    }
    return linear(input, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

/**
 * Returns its input, as torch.nn.Identity (a placeholder in architectures).
 * @example new Identity().forward(x) === x // true
 */
export class Identity extends Module {
  forward(input: Tensor): Tensor {
    return input;
  }
}
