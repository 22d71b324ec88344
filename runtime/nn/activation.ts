/**
 * @module nn/activation — activation layers, as in torch.nn: ReLU, LeakyReLU,
 * Sigmoid, Tanh, GELU, SiLU, Softmax and LogSoftmax.
 */
import { ValueError } from '../errors.ts';
import {
  gelu,
  leakyRelu,
  logSoftmax,
  relu,
  sigmoid,
  silu,
  softmax,
  tanh,
  type GeluOptions,
  type Tensor,
} from '../tensor/index.ts';
import { Module } from './module.ts';
import { pyFloat, pyStr } from './repr.ts';

/**
 * max(x, 0), as torch.nn.ReLU.
 * @example new ReLU().forward(tensor([-1, 2])) // [0, 2]
 */
export class ReLU extends Module {
  forward(input: Tensor): Tensor {
    return relu(input);
  }
}

/**
 * x where x > 0, else negativeSlope·x, as torch.nn.LeakyReLU.
 * @example new LeakyReLU(0.2).forward(tensor([-1, 2])) // [-0.2, 2]
 */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;
  constructor(negativeSlope = 0.01) {
    super();
    this.negativeSlope = negativeSlope;
  }
  forward(input: Tensor): Tensor {
    return leakyRelu(input, this.negativeSlope);
  }
  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }
}

/**
 * 1 / (1 + e^−x), as torch.nn.Sigmoid.
 * @example new Sigmoid().forward(tensor([0])) // [0.5]
 */
export class Sigmoid extends Module {
  forward(input: Tensor): Tensor {
    return sigmoid(input);
  }
}

/**
 * tanh(x), as torch.nn.Tanh.
 * @example new Tanh().forward(tensor([0])) // [0]
 */
export class Tanh extends Module {
  forward(input: Tensor): Tensor {
    return tanh(input);
  }
}

/**
 * x·Φ(x), exact (`approximate: 'none'`, the default) or with the tanh approximation, as torch.nn.GELU.
 * @example new GELU({ approximate: 'tanh' }).forward(x)
 */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(options: GeluOptions = {}) {
    super();
    const a = options.approximate ?? 'none';
    if (a !== 'none' && a !== 'tanh') {
      throw new ValueError(`GELU: unknown approximation; expected 'none' or 'tanh', got ${JSON.stringify(a)}`);
    }
    this.approximate = a;
  }
  forward(input: Tensor): Tensor {
    return gelu(input, { approximate: this.approximate });
  }
  override extraRepr(): string {
    return `approximate=${pyStr(this.approximate)}`;
  }
}

/**
 * x·σ(x), as torch.nn.SiLU.
 * @example new SiLU().forward(x)
 */
export class SiLU extends Module {
  forward(input: Tensor): Tensor {
    return silu(input);
  }
}

/**
 * Softmax along `dim`, as torch.nn.Softmax(dim).
 * @example new Softmax(1).forward(logits) // rows sum to 1
 */
export class Softmax extends Module {
  readonly dim: number;
  constructor(dim: number) {
    super();
    this.dim = dim;
  }
  forward(input: Tensor): Tensor {
    return softmax(input, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * log(softmax(x)) along `dim`, computed stably, as torch.nn.LogSoftmax(dim).
 * @example new LogSoftmax(1).forward(logits)
 */
export class LogSoftmax extends Module {
  readonly dim: number;
  constructor(dim: number) {
    super();
    this.dim = dim;
  }
  forward(input: Tensor): Tensor {
    return logSoftmax(input, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
