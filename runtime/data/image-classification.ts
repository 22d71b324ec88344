/**
 * @module data/image-classification — the in-memory dataset behind MNIST,
 * FashionMNIST and MnistDigits: uint8 images, integer labels, transforms.
 */
import { ShapeError, ValueError } from '../errors.ts';
import { Tensor, backendOr } from '../tensor/index.ts';
import { Dataset, checkIndex } from './dataset.ts';
import { RawImage } from './raw-image.ts';
import { Lambda, batchImageTransform, type Transform } from './transforms.ts';

/** A transform object, or a plain function (wrapped in a Lambda). */
export type TransformLike<I, O> = Transform<I, O> | ((x: I) => O);

/** The transform options every image dataset takes (torchvision's `transform` / `target_transform`). */
export interface ImageDatasetOptions<X, Y> {
  /** Applied to each image. Default: none, so items hold a {@link RawImage}. */
  readonly transform?: TransformLike<RawImage, X>;
  /** Applied to each label. Default: none, so labels are numbers. */
  readonly targetTransform?: TransformLike<number, Y>;
}

function asTransform<I, O>(t: TransformLike<I, O> | undefined, name: string): Transform<I, O> | undefined {
  if (t === undefined) return undefined;
  if (typeof t === 'function') return new Lambda(t);
  if (typeof (t as Partial<Transform<I, O>>).forward !== 'function') {
    throw new ValueError(`${name}: not a transform; expected a function or an object with forward(x), got ${typeof t}`);
  }
  return t;
}

/** The raw arrays of an image dataset. */
export interface ImageArrays {
  /** `count * height * width * channels` bytes, HWC per image. */
  readonly data: Uint8Array;
  /** One label per image. */
  readonly targets: Uint8Array | Int32Array;
  readonly height: number;
  readonly width: number;
  readonly channels?: number;
  /** Class names, by label. */
  readonly classes?: readonly string[];
}

/**
 * Items are `[transform(image), targetTransform(label)]`. When the transform
 * is ToTensor, optionally followed by Normalize, and there is no target
 * transform, `getBatch` builds a whole `[N, C, H, W]` batch and an int32
 * label tensor in one pass, which DataLoader uses instead of per-item stacking.
 * @example
 * const ds = new ImageClassificationDataset({ data, targets, height: 28, width: 28 }, { transform: new ToTensor() });
 * const [x, y] = ds.getItem(0); // Tensor [1, 28, 28], number
 */
export class ImageClassificationDataset<X = RawImage, Y = number> extends Dataset<[X, Y]> {
  /** `length * height * width * channels` bytes (torchvision's `data`). */
  readonly data: Uint8Array;
  /** The labels (torchvision's `targets`). */
  readonly targets: Uint8Array | Int32Array;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classes: readonly string[];
  readonly transform: Transform<RawImage, X> | undefined;
  readonly targetTransform: Transform<number, Y> | undefined;
  /** Present only when the transforms have a batch form (see the class comment). */
  readonly getBatch?: (indices: readonly number[]) => [Tensor, Tensor];

  constructor(arrays: ImageArrays, options: ImageDatasetOptions<X, Y> = {}) {
    super();
    if (typeof arrays !== 'object' || arrays === null) {
      // A PyTorch habit: `MNIST(root, ...)`. Loading is async here, so it has its own entry.
      throw new ValueError(
        `${new.target.name}: the constructor takes parsed arrays; expected await ${new.target.name}.load(root, options), got new ${new.target.name}(${JSON.stringify(arrays)})`,
      );
    }
    const { data, targets, height, width, channels = 1, classes = [] } = arrays;
    const size = height * width * channels;
    if (!Number.isInteger(size) || size <= 0 || data.length !== targets.length * size) {
      throw new ShapeError(
        `${new.target.name}: images and labels do not match; expected ${targets.length} images of ${height}x${width}x${channels} = ${targets.length * size} bytes, got ${data.length}`,
      );
    }
    this.data = data;
    this.targets = targets;
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.classes = classes;
    this.transform = asTransform(options.transform, new.target.name);
    this.targetTransform = asTransform(options.targetTransform, new.target.name);
    const batchTransform = batchImageTransform(this.transform);
    if (batchTransform !== undefined && this.targetTransform === undefined) {
      const name = new.target.name;
      this.getBatch = (indices) => {
        const n = this.length;
        const rows = indices.map((i) => checkIndex(name, i, n));
        const labels = Int32Array.from(rows, (r) => this.targets[r]!);
        return [batchTransform(this, rows), Tensor.fromArray(backendOr(undefined), 'int32', [labels.length], labels)];
      };
    }
  }

  get length(): number {
    return this.targets.length;
  }

  /** The raw image at `index` (its own copy of the bytes). */
  image(index: number): RawImage {
    const size = this.height * this.width * this.channels;
    const i = checkIndex(this.constructor.name, index, this.length);
    return new RawImage(this.data.slice(i * size, (i + 1) * size), this.height, this.width, this.channels);
  }

  getItem(index: number): [X, Y] {
    const i = checkIndex(this.constructor.name, index, this.length);
    const img = this.image(i);
    const label = this.targets[i]!;
    const x = this.transform === undefined ? img : this.transform.forward(img);
    const y = this.targetTransform === undefined ? label : this.targetTransform.forward(label);
    return [x as X, y as Y];
  }
}
