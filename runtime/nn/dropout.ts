/**
 * @module nn/dropout — Dropout, as torch.nn.Dropout.
 */
import type { Tensor } from '../tensor/index.ts';
import { checkDropoutP, dropout } from './functional.ts';
import { Module } from './module.ts';
import { pyFloat } from './repr.ts';

/**
 * In training, zeroes each element with probability `p` (a Bernoulli mask from the
 * default generator) and scales the rest by 1/(1−p); in eval mode, the identity.
 * @example
 * const drop = new Dropout(0.5);
 * drop.eval().forward(x) === x // true
 */
export class Dropout extends Module {
  readonly p: number;
  constructor(p = 0.5) {
    super();
    checkDropoutP('Dropout', p);
    this.p = p;
  }
  forward(input: Tensor): Tensor {
    return dropout(input, this.p, { training: this.training });
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}
