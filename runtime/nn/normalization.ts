/**
 * @module nn/normalization — LayerNorm, BatchNorm1d and BatchNorm2d, as in torch.nn.
 */
import { noGrad } from '../autograd.ts';
import { ShapeError, ValueError } from '../errors.ts';
import { shapeString } from '../shape.ts';
import { type Tensor, backendOr, div, fullOn, zerosOn } from '../tensor/index.ts';
import { batchNorm, layerNorm, normalizeShapeArg, type ProcessGroup } from './functional.ts';
import { Module, Parameter, type FactoryOptions } from './module.ts';
import { pyBool, pyFloat, pyTuple } from './repr.ts';

/** Options of `LayerNorm`. */
export interface LayerNormModuleOptions extends FactoryOptions {
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
  /** Learn a per-element scale (ones) and shift (zeros) (default true). */
  readonly elementwiseAffine?: boolean;
  /** With `elementwiseAffine`, learn the shift too (default true). */
  readonly bias?: boolean;
}

/**
 * Normalises over the trailing `normalizedShape` dims (biased variance), then
 * scales and shifts, as torch.nn.LayerNorm.
 * @example new LayerNorm(64).forward(randn([8, 64])).shape // [8, 64]
 */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormModuleOptions = {}) {
    super();
    this.normalizedShape = normalizeShapeArg(normalizedShape);
    this.eps = options.eps ?? 1e-5;
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    const backend = backendOr(options.backend);
    const dtype = options.dtype ?? 'float32';
    this.weight = this.elementwiseAffine ? new Parameter(fullOn(backend, this.normalizedShape, 1, dtype)) : null;
    this.bias =
      this.elementwiseAffine && options.bias !== false
        ? new Parameter(zerosOn(backend, this.normalizedShape, dtype))
        : null;
  }

  forward(input: Tensor): Tensor {
    return layerNorm(input, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps }, 'LayerNorm');
  }

  override extraRepr(): string {
    return `${pyTuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyBool(this.elementwiseAffine)}`;
  }
}

/** Options of `BatchNorm1d` and `BatchNorm2d` (torch's defaults). */
export interface BatchNormModuleOptions extends FactoryOptions {
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
  /** Weight of each batch in the running stats (default 0.1); null: a cumulative average. */
  readonly momentum?: number | null;
  /** Learn a per-channel scale (ones) and shift (zeros) (default true). */
  readonly affine?: boolean;
  /** Keep running_mean, running_var and num_batches_tracked buffers (default true). */
  readonly trackRunningStats?: boolean;
}

/** The shared body of BatchNorm1d/2d, as torch's `_BatchNorm`. */
export abstract class BatchNorm extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  runningMean: Tensor | null = null;
  runningVar: Tensor | null = null;
  /** int32 (torch's is int64). */
  numBatchesTracked: Tensor | null = null;
  /**
   * In training, take the batch statistics over every rank of this group, as torch's
   * SyncBatchNorm (default null: this batch alone). `Trainer({ syncBatchnorm: true })` sets it
   * under DDP for the length of a run.
   */
  processGroup: ProcessGroup | null = null;

  constructor(numFeatures: number, options: BatchNormModuleOptions = {}) {
    super();
    this.numFeatures = numFeatures;
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    checkMomentum(this.momentum);
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    const backend = backendOr(options.backend);
    const dtype = options.dtype ?? 'float32';
    this.weight = this.affine ? new Parameter(fullOn(backend, [numFeatures], 1, dtype)) : null;
    this.bias = this.affine ? new Parameter(zerosOn(backend, [numFeatures], dtype)) : null;
    if (this.trackRunningStats) {
      this.registerBuffer('runningMean', zerosOn(backend, [numFeatures], dtype));
      this.registerBuffer('runningVar', fullOn(backend, [numFeatures], 1, dtype));
      this.registerBuffer('numBatchesTracked', zerosOn(backend, [], 'int32'));
    } else {
      this.registerBuffer('runningMean', null);
      this.registerBuffer('runningVar', null);
      this.registerBuffer('numBatchesTracked', null);
    }
  }

  /** Throws unless the input has the rank this variant takes. */
  protected abstract checkInputDim(input: Tensor): void;

  /** Sets the running stats to mean 0, variance 1 and the batch count to 0. */
  resetRunningStats(): void {
    noGrad(() => {
      this.runningMean?.zero_();
      this.runningVar?.fill_(1);
      this.numBatchesTracked?.zero_();
    });
  }

  forward(input: Tensor): Tensor {
    this.checkInputDim(input);
    if (input.shape[1] !== this.numFeatures) {
      throw new ShapeError(
        `${this.getName()}: channels differ; expected x[1] == ${this.numFeatures}, got ${shapeString(input.shape)}`,
      );
    }
    let factor: number | Tensor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.numBatchesTracked !== null) {
      const nbt = this.numBatchesTracked;
      noGrad(() => nbt.add_(1));
      // momentum null: a cumulative moving average, 1 / num_batches_tracked, as torch; on a
      // backend that reads back only asynchronously (WebGPU) the factor stays a device tensor.
      if (this.momentum === null) {
        factor = nbt.backend.capabilities.syncReadback ? 1 / nbt.dataSync()[0]! : noGrad(() => div(1, nbt));
      }
    }
    const useBatchStats = this.training || (this.runningMean === null && this.runningVar === null);
    const track = !this.training || this.trackRunningStats;
    return batchNorm(
      input,
      track ? this.runningMean : null,
      track ? this.runningVar : null,
      {
        weight: this.weight,
        bias: this.bias,
        training: useBatchStats,
        momentum: factor,
        eps: this.eps,
        // As torch's SyncBatchNorm: only training syncs (eval without running stats stays local).
        processGroup: this.training ? this.processGroup : null,
      },
      this.getName(),
    );
  }

  // A state dict without num_batches_tracked (written before torch 0.4.1) still loads, as torch's _BatchNorm allows.
  protected override beforeLoadStateDict(state: Map<string, Tensor>, prefix: string): void {
    const key = `${prefix}num_batches_tracked`;
    if (this.trackRunningStats && this.numBatchesTracked !== null && !state.has(key))
      state.set(key, this.numBatchesTracked);
  }

  override extraRepr(): string {
    const m = this.momentum === null ? 'None' : pyFloat(this.momentum);
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${m}, affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
}

/**
 * Batch normalisation of `[N, C]` or `[N, C, L]` input over N (and L), as torch.nn.BatchNorm1d.
 * Training normalises with the batch's statistics and updates the running ones; eval uses the running ones.
 * @example new BatchNorm1d(64).forward(randn([32, 64]))
 */
export class BatchNorm1d extends BatchNorm {
  protected checkInputDim(input: Tensor): void {
    if (input.dim() !== 2 && input.dim() !== 3) {
      throw new ShapeError(
        `BatchNorm1d: wrong input rank; expected 2D or 3D input [N, C] or [N, C, L], got ${shapeString(input.shape)}`,
      );
    }
  }
}

/**
 * Batch normalisation of `[N, C, H, W]` input over N, H and W, as torch.nn.BatchNorm2d.
 * @example new BatchNorm2d(16).forward(randn([8, 16, 28, 28]))
 */
export class BatchNorm2d extends BatchNorm {
  protected checkInputDim(input: Tensor): void {
    if (input.dim() !== 4) {
      throw new ShapeError(
        `BatchNorm2d: wrong input rank; expected 4D input [N, C, H, W], got ${shapeString(input.shape)}`,
      );
    }
  }
}

function checkMomentum(m: number | null): void {
  if (m !== null && !(m >= 0 && m <= 1))
    throw new ValueError(`BatchNorm: momentum out of range; expected 0 <= momentum <= 1 or null, got ${m}`);
}
