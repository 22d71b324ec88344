/**
 * @module data/random-split — torch.utils.data.random_split.
 */
import { ValueError } from '../errors.ts';
import { defaultGenerator, type Generator } from '../random.ts';
import { Subset, type Dataset } from './dataset.ts';

/** Options of {@link randomSplit}. */
export interface RandomSplitOptions {
  /** The generator the permutation comes from. Default: the global one that `manualSeed` seeds. */
  readonly generator?: Generator;
}

function isClose(a: number, b: number): boolean {
  // Python's math.isclose with its default rel_tol=1e-9, abs_tol=0.
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * Splits `dataset` into non-overlapping random subsets, as torch.utils.data.random_split.
 * `lengths` are item counts that sum to the dataset's length, or fractions
 * that sum to 1: each gets floor(n * fraction) items and the remainder is
 * handed out one by one, round-robin from the first split.
 * @example
 * const [train, val] = randomSplit(ds, [55000, 5000], { generator: new Generator(42) });
 * const [a, b, c] = randomSplit(ds, [0.3, 0.3, 0.4]);
 */
export function randomSplit<T>(
  dataset: Dataset<T>,
  lengths: readonly number[],
  options: RandomSplitOptions = {},
): Subset<T>[] {
  const n = dataset.length;
  const given = `[${lengths.join(', ')}]`;
  if (lengths.length === 0) {
    throw new ValueError(
      `randomSplit: no lengths; expected lengths summing to the dataset size ${n} or fractions summing to 1, got []`,
    );
  }
  for (const l of lengths) {
    if (typeof l !== 'number' || !Number.isFinite(l) || l < 0) {
      throw new ValueError(
        `randomSplit: lengths must be non-negative numbers; expected counts or fractions in [0, 1], got ${given}`,
      );
    }
  }
  let sizes = [...lengths];
  const total = sizes.reduce((a, b) => a + b, 0);
  if (isClose(total, 1) && total <= 1) {
    sizes.forEach((f, i) => {
      if (f > 1)
        throw new ValueError(
          `randomSplit: fraction at index ${i} is not between 0 and 1; expected fractions in [0, 1], got ${given}`,
        );
    });
    sizes = sizes.map((f) => Math.floor(n * f));
    const remainder = n - sizes.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) sizes[i % sizes.length]! += 1;
  }
  if (sizes.some((s) => !Number.isInteger(s))) {
    throw new ValueError(
      `randomSplit: lengths must be integers or fractions summing to 1; expected counts summing to ${n}, got ${given}`,
    );
  }
  const sum = sizes.reduce((a, b) => a + b, 0);
  if (sum !== n) {
    throw new ValueError(
      `randomSplit: sum of input lengths does not equal the length of the input dataset; expected a sum of ${n} (or fractions summing to 1), got ${given} (sum ${sum})`,
    );
  }
  const perm = (options.generator ?? defaultGenerator).permutation(n);
  const out: Subset<T>[] = [];
  let offset = 0;
  for (const size of sizes) {
    out.push(new Subset(dataset, perm.subarray(offset, offset + size)));
    offset += size;
  }
  return out;
}
