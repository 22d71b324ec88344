/**
 * @module lightning/datamodule — `LightningDataModule`: data preparation and loaders in one object.
 */
import type { Stage } from './callbacks/callback.ts';

/** What the Trainer iterates: a DataLoader, or any (async) iterable of batches; `length` when known. */
export type Loader = (AsyncIterable<unknown> | Iterable<unknown>) & { readonly length?: number };

/**
 * Lightning's DataModule: `prepareData` (once), `setup(stage)`, then the loaders.
 * @example
 * class Digits extends LightningDataModule {
 *   override setup() { [this.train, this.val] = randomSplit(MnistDigits.fromPackage(mnist, { transform: new ToTensor() }), [0.9, 0.1]); }
 *   override trainDataloader() { return new DataLoader(this.train!, { batchSize: 32, shuffle: true }); }
 * }
 */
export class LightningDataModule {
  /** Download or write data; called once before setup. */
  prepareData(): void | Promise<void> {
    return undefined;
  }
  /** Build datasets for `stage`. */
  setup(_stage: Stage): void | Promise<void> {}
  teardown(_stage: Stage): void | Promise<void> {}
  trainDataloader(): Loader | undefined {
    return undefined;
  }
  valDataloader(): Loader | undefined {
    return undefined;
  }
  testDataloader(): Loader | undefined {
    return undefined;
  }
  predictDataloader(): Loader | undefined {
    return undefined;
  }
  /** State stored in checkpoints under the class name. */
  stateDict(): Record<string, unknown> {
    return {};
  }
  loadStateDict(_state: Readonly<Record<string, unknown>>): void {}
}
