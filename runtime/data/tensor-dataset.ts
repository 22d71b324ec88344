/**
 * @module data/tensor-dataset — rows of tensors that share their first dim
 * (torch.utils.data.TensorDataset), with a one-gather batch path.
 */
import type { Backend } from '../backend.ts';
import { ShapeError, ValueError } from '../errors.ts';
import { Tensor, arrayFrom, cat, indexSelect } from '../tensor/index.ts';
import { tidy } from '../memory.ts';
import { shapeString } from '../shape.ts';
import { Dataset, checkIndex } from './dataset.ts';

/** One row of each tensor, as a tuple of the same length. */
export type TensorRows<Ts extends readonly Tensor[]> = { -readonly [K in keyof Ts]: Tensor };

/**
 * Item `i` is `[t0[i], t1[i], ...]` (views, no copy). `getBatch` returns the
 * whole batch with one slice (consecutive indices) or one gather per tensor,
 * which DataLoader uses instead of stacking per-item rows.
 * @example
 * const ds = new TensorDataset(x, y); // x: [100, 784], y: [100]
 * const [xi, yi] = ds.getItem(0);      // [784] and []
 */
export class TensorDataset<Ts extends readonly Tensor[] = Tensor[]> extends Dataset<TensorRows<Ts>> {
  readonly tensors: Ts;

  constructor(...tensors: Ts) {
    super();
    const first = tensors[0];
    if (first === undefined) {
      throw new ValueError('TensorDataset: no tensors; expected at least 1 tensor, got 0');
    }
    for (const t of tensors) {
      if (t.dim() === 0 || t.shape[0] !== first.shape[0]) {
        throw new ShapeError(
          `TensorDataset: size mismatch between tensors; expected every tensor to have first dim ${first.dim() === 0 ? '>= 1' : first.shape[0]}, got shapes ${tensors.map((x) => shapeString(x.shape)).join(', ')}`,
        );
      }
    }
    this.tensors = tensors;
  }

  get length(): number {
    return this.tensors[0]!.shape[0]!;
  }

  getItem(index: number): TensorRows<Ts> {
    const i = checkIndex('TensorDataset', index, this.length);
    return this.tensors.map((t) => t.select(0, i)) as TensorRows<Ts>;
  }

  /**
   * Rows `indices` of every tensor, each as one tensor with the batch dim first.
   * Consecutive ascending indices give views (no copy); others one indexSelect.
   * The tensors are new objects that the caller owns.
   */
  getBatch(indices: readonly number[]): TensorRows<Ts> {
    const n = this.length;
    const rows = indices.map((i) => checkIndex('TensorDataset', i, n));
    if (rows.length === 0) {
      throw new ValueError('TensorDataset.getBatch: empty batch; expected at least 1 index, got 0');
    }
    const start = rows[0]!;
    let run = true;
    for (let k = 1; k < rows.length; k++)
      if (rows[k] !== start + k) {
        run = false;
        break;
      }
    if (run) return this.tensors.map((t) => t.narrow(0, start, rows.length)) as TensorRows<Ts>;
    // tidy frees the index tensors (and indexSelect's expanded index) and keeps the batch.
    return tidy(() => {
      const indexOn = new Map<Backend, Tensor>();
      return this.tensors.map((t) => {
        // gather takes numbers only; bool rows are copied one by one.
        if (t.dtype === 'bool')
          return cat(
            rows.map((r) => t.narrow(0, r, 1)),
            0,
          );
        let index = indexOn.get(t.backend);
        if (index === undefined) {
          index = Tensor.fromArray(t.backend, 'int32', [rows.length], arrayFrom('int32', rows));
          indexOn.set(t.backend, index);
        }
        return indexSelect(t, 0, index);
      });
    }) as TensorRows<Ts>;
  }
}
