/**
 * @module nn/loss-modules — loss modules, as torch.nn's (MSELoss, CrossEntropyLoss, ...),
 * each a thin holder of options around the function of the same name in `F`.
 */
import type { Tensor } from '../tensor/index.ts';
import * as L from './loss-functions.ts';
import { Module } from './module.ts';

/**
 * `F.mseLoss` as a module, as torch.nn.MSELoss.
 * @example new MSELoss().forward(xHat, x)
 */
export class MSELoss extends Module {
  readonly options: L.ReductionOptions;
  constructor(options: L.ReductionOptions = {}) {
    super();
    this.options = options;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return L.mseLoss(input, target, this.options);
  }
}

/**
 * `F.l1Loss` as a module, as torch.nn.L1Loss.
 * @example new L1Loss({ reduction: 'sum' }).forward(y, t)
 */
export class L1Loss extends Module {
  readonly options: L.ReductionOptions;
  constructor(options: L.ReductionOptions = {}) {
    super();
    this.options = options;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return L.l1Loss(input, target, this.options);
  }
}

/**
 * `F.smoothL1Loss` as a module, as torch.nn.SmoothL1Loss.
 * @example new SmoothL1Loss({ beta: 0.5 }).forward(y, t)
 */
export class SmoothL1Loss extends Module {
  readonly options: L.SmoothL1Options;
  constructor(options: L.SmoothL1Options = {}) {
    super();
    this.options = options;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return L.smoothL1Loss(input, target, this.options);
  }
}

/**
 * `F.huberLoss` as a module, as torch.nn.HuberLoss.
 * @example new HuberLoss({ delta: 2 }).forward(y, t)
 */
export class HuberLoss extends Module {
  readonly options: L.HuberOptions;
  constructor(options: L.HuberOptions = {}) {
    super();
    this.options = options;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return L.huberLoss(input, target, this.options);
  }
}

/**
 * `F.crossEntropy` as a module, as torch.nn.CrossEntropyLoss. A class `weight` is a buffer, as in torch.
 * @example new CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(logits, labels)
 */
export class CrossEntropyLoss extends Module {
  readonly options: Omit<L.CrossEntropyOptions, 'weight'>;
  weight: Tensor | null = null;
  constructor(options: L.CrossEntropyOptions = {}) {
    super();
    const { weight, ...rest } = options;
    this.options = rest;
    this.registerBuffer('weight', weight ?? null);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return L.crossEntropy(input, target, { ...this.options, weight: this.weight });
  }
}

/**
 * `F.nllLoss` as a module, as torch.nn.NLLLoss. A class `weight` is a buffer, as in torch.
 * @example new NLLLoss().forward(logProbs, labels)
 */
export class NLLLoss extends Module {
  readonly options: Omit<L.NllLossOptions, 'weight'>;
  weight: Tensor | null = null;
  constructor(options: L.NllLossOptions = {}) {
    super();
    const { weight, ...rest } = options;
    this.options = rest;
    this.registerBuffer('weight', weight ?? null);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return L.nllLoss(input, target, { ...this.options, weight: this.weight });
  }
}

/**
 * `F.binaryCrossEntropy` as a module, as torch.nn.BCELoss.
 * @example new BCELoss().forward(probs, targets)
 */
export class BCELoss extends Module {
  readonly options: Omit<L.BinaryCrossEntropyOptions, 'weight'>;
  weight: Tensor | null = null;
  constructor(options: L.BinaryCrossEntropyOptions = {}) {
    super();
    const { weight, ...rest } = options;
    this.options = rest;
    this.registerBuffer('weight', weight ?? null);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return L.binaryCrossEntropy(input, target, { ...this.options, weight: this.weight });
  }
}

/**
 * `F.binaryCrossEntropyWithLogits` as a module, as torch.nn.BCEWithLogitsLoss; `weight` and `posWeight` are buffers.
 * @example new BCEWithLogitsLoss({ posWeight: tensor([3]) }).forward(logits, targets)
 */
export class BCEWithLogitsLoss extends Module {
  readonly options: Omit<L.BinaryCrossEntropyWithLogitsOptions, 'weight' | 'posWeight'>;
  weight: Tensor | null = null;
  posWeight: Tensor | null = null;
  constructor(options: L.BinaryCrossEntropyWithLogitsOptions = {}) {
    super();
    const { weight, posWeight, ...rest } = options;
    this.options = rest;
    this.registerBuffer('weight', weight ?? null);
    this.registerBuffer('posWeight', posWeight ?? null);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return L.binaryCrossEntropyWithLogits(input, target, {
      ...this.options,
      weight: this.weight,
      posWeight: this.posWeight,
    });
  }
}
