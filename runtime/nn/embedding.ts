/**
 * @module nn/embedding — Embedding, as torch.nn.Embedding.
 */
import { noGrad } from '../autograd.ts';
import { ValueError } from '../errors.ts';
import { type Tensor, backendOr, zerosOn } from '../tensor/index.ts';
import { embedding } from './functional.ts';
import { normal_ } from './init.ts';
import { Module, Parameter, type FactoryOptions } from './module.ts';

/** Options of `Embedding`. */
export interface EmbeddingModuleOptions extends FactoryOptions {
  /** This row starts at zero and gets no gradient (negative counts from the end). */
  readonly paddingIdx?: number | null;
}

/**
 * A lookup table `[numEmbeddings, embeddingDim]` indexed by int32 tensors, as
 * torch.nn.Embedding. Initialised from N(0, 1); the `paddingIdx` row is zero
 * and receives no gradient.
 * @example
 * const emb = new Embedding(10, 3, { paddingIdx: 0 });
 * emb.forward(tensor([[1, 2, 0]], { dtype: 'int32' })).shape // [1, 3, 3]
 */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingModuleOptions = {}) {
    super();
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    let pad = options.paddingIdx ?? null;
    if (pad !== null) {
      if (!Number.isInteger(pad) || pad >= numEmbeddings || pad < -numEmbeddings) {
        throw new ValueError(
          `Embedding: paddingIdx must be within numEmbeddings; expected ${-numEmbeddings} <= paddingIdx < ${numEmbeddings}, got ${pad}`,
        );
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    this.weight = new Parameter(
      zerosOn(backendOr(options.backend), [numEmbeddings, embeddingDim], options.dtype ?? 'float32'),
    );
    this.resetParameters();
  }

  /** Draws new weights from N(0, 1) and zeroes the padding row. */
  resetParameters(): void {
    normal_(this.weight);
    const pad = this.paddingIdx;
    if (pad !== null) {
      noGrad(() => {
        const row = this.weight.select(0, pad);
        row.zero_();
        row.dispose();
      });
    }
  }

  forward(input: Tensor): Tensor {
    return embedding(input, this.weight, { paddingIdx: this.paddingIdx }, 'Embedding');
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? '' : `, padding_idx=${this.paddingIdx}`}`;
  }
}
