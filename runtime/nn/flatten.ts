/**
 * @module nn/flatten — Flatten, as torch.nn.Flatten.
 */
import type { Tensor } from '../tensor/index.ts';
import { Module } from './module.ts';

/**
 * Flattens dims `startDim..endDim` (default 1..−1, keeping the batch dim), as torch.nn.Flatten.
 * @example new Flatten().forward(zeros([32, 1, 28, 28])).shape // [32, 784]
 */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;
  constructor(startDim = 1, endDim = -1) {
    super();
    this.startDim = startDim;
    this.endDim = endDim;
  }
  forward(input: Tensor): Tensor {
    return input.flatten(this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
