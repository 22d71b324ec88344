/**
 * @module inference/check-input — one check of a model input, before the first layer sees it.
 *
 * A layer's own error names the layer (`Linear: input features differ; expected x[-1] == 784`);
 * a server wants the input's name and the whole expected shape, with `null` for a free axis.
 */
import type { DType } from '../dtype.ts';
import { LightningError } from '../errors.ts';
import type { Tensor } from '../tensor/index.ts';

/**
 * What an input must be. `shape` has one entry per axis: a size, or `null` for any size (the batch).
 * @example { name: 'images', shape: [null, 784], dtype: 'float32' }
 */
export interface InputSpec {
  /** The input's name, as the error shows it. */
  readonly name: string;
  readonly shape: readonly (number | null)[];
  /** Default `'float32'`. */
  readonly dtype?: DType;
}

/**
 * An input of the wrong shape or dtype; `input` names it, `expected` and `got` are printable.
 * @example
 * try { checkInput(x, spec); } catch (e) { if (e instanceof InputError) return badRequest(e.message); }
 */
export class InputError extends LightningError {
  readonly input: string;
  readonly expected: string;
  readonly got: string;
  constructor(message: string, details: { input: string; expected: string; got: string }) {
    super(message);
    this.input = details.input;
    this.expected = details.expected;
    this.got = details.got;
  }
}

/**
 * Throws an {@link InputError} unless `x` has `spec`'s rank, sizes and dtype; returns `x`.
 * @example
 * const z = model.forward(checkInput(x, { name: 'images', shape: [null, 784] }));
 * // x of shape [2, 10]: "input 'images': wrong shape; expected [N, 784], got [2, 10]"
 */
export function checkInput(x: Tensor, spec: InputSpec): Tensor {
  const expected = `[${spec.shape.map((s, i) => (s === null ? (i === 0 ? 'N' : `d${i}`) : String(s))).join(', ')}]`;
  const got = `[${x.shape.join(', ')}]`;
  const fits = x.shape.length === spec.shape.length && spec.shape.every((s, i) => s === null || s === x.shape[i]);
  if (!fits) {
    throw new InputError(`input '${spec.name}': wrong shape; expected ${expected}, got ${got}`, {
      input: spec.name,
      expected,
      got,
    });
  }
  const dtype = spec.dtype ?? 'float32';
  if (x.dtype !== dtype) {
    throw new InputError(`input '${spec.name}': wrong dtype; expected ${dtype} ${expected}, got ${x.dtype} ${got}`, {
      input: spec.name,
      expected: dtype,
      got: x.dtype,
    });
  }
  return x;
}
