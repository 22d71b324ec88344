/**
 * @module data/errors — the typed error of the dataset loaders.
 */
import { LightningError } from '../errors.ts';

/**
 * A dataset that cannot be found, downloaded or verified. The message says
 * which files are expected and in which folder.
 * @example
 * // MNIST: dataset not found; expected train-images-idx3-ubyte[.gz], ... in data/MNIST/raw/, got none (...)
 */
export class DatasetError extends LightningError {}
