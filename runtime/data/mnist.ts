/**
 * @module data/mnist — torchvision.datasets.MNIST and FashionMNIST.
 *
 * Files are read from torchvision's layout, `<root>/MNIST/raw/` (or
 * `<root>/FashionMNIST/raw/`), each either uncompressed (`train-images-idx3-ubyte`)
 * or gzipped (`train-images-idx3-ubyte.gz`), through the platform's file
 * system. Loading is async, so the idiom is `await MNIST.load(root, options)`
 * where PyTorch writes `MNIST(root, ...)`. `download: true` fetches missing
 * files from torchvision's mirrors and checks torchvision's MD5 checksums.
 */
import { ValueError } from '../errors.ts';
import { getPlatform } from '../platform.ts';
import { gunzip } from '../io/gzip.ts';
import { FormatError } from '../io/errors.ts';
import { parseIdx, type IdxData } from '../io/idx.ts';
import { DatasetError } from './errors.ts';
import type { RawImage } from './raw-image.ts';
import { ImageClassificationDataset, type ImageArrays, type ImageDatasetOptions } from './image-classification.ts';
import { md5 } from './md5.ts';

/** Options of {@link MNIST.load} and {@link FashionMNIST.load}; defaults are torchvision's. */
export interface MnistOptions<X = RawImage, Y = number> extends ImageDatasetOptions<X, Y> {
  /** The 60,000 training images, or (false) the 10,000 test images. Default true. */
  readonly train?: boolean;
  /** Fetch missing files from the mirrors into `<root>/<Name>/raw/`. Default false. */
  readonly download?: boolean;
}

/** Where a dataset's files come from and what they are called. */
export interface MnistSpec {
  /** The folder under root, and the name in messages: 'MNIST', 'FashionMNIST'. */
  readonly name: string;
  /** Base URLs, tried in order for each file. */
  readonly mirrors: readonly string[];
  /** `[file name, MD5 of the file]` for the four `.gz` files, as in torchvision. */
  readonly resources: readonly (readonly [string, string])[];
  readonly classes: readonly string[];
}

/**
 * torchvision's MNIST sources (torchvision/datasets/mnist.py).
 * @example MNIST_SPEC.resources[0] // ['train-images-idx3-ubyte.gz', 'f68b3c2dcbeaaa9fbdd348bbdeb94873']
 */
export const MNIST_SPEC: MnistSpec = {
  name: 'MNIST',
  mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'],
  resources: [
    ['train-images-idx3-ubyte.gz', 'f68b3c2dcbeaaa9fbdd348bbdeb94873'],
    ['train-labels-idx1-ubyte.gz', 'd53e105ee54ea40749a09fcbcd1e9432'],
    ['t10k-images-idx3-ubyte.gz', '9fb629c4189551a2d022fa330f9573f3'],
    ['t10k-labels-idx1-ubyte.gz', 'ec29112dd5afa0611ce80d1b7f02629c'],
  ],
  classes: [
    '0 - zero',
    '1 - one',
    '2 - two',
    '3 - three',
    '4 - four',
    '5 - five',
    '6 - six',
    '7 - seven',
    '8 - eight',
    '9 - nine',
  ],
};

/**
 * torchvision's FashionMNIST sources.
 * @example FASHION_MNIST_SPEC.classes[9] // 'Ankle boot'
 */
export const FASHION_MNIST_SPEC: MnistSpec = {
  name: 'FashionMNIST',
  mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
  resources: [
    ['train-images-idx3-ubyte.gz', '8d4fb7e6c68d591d4c3dfef9ec88bf0d'],
    ['train-labels-idx1-ubyte.gz', '25c81989df183df01b3e8a0aad5dffbe'],
    ['t10k-images-idx3-ubyte.gz', 'bef4ecab320f06d8554ea6380940ec79'],
    ['t10k-labels-idx1-ubyte.gz', 'bb300cfdad3c16e7a12a480ee83cd310'],
  ],
  classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
};

const OPTION_NAMES = ['train', 'download', 'transform', 'targetTransform'];

/** `<root>/<name>/raw` with forward slashes and no doubled separators. */
function rawFolder(root: string, name: string): string {
  const base = root.replace(/[\\/]+$/, '');
  return `${base === '' ? '.' : base}/${name}/raw`;
}

async function listOrEmpty(folder: string): Promise<string[] | undefined> {
  try {
    return await getPlatform().listDir(folder);
  } catch {
    return undefined;
  }
}

/** The present file for `base`: uncompressed first (torchvision extracts), then `.gz`. */
function pick(present: readonly string[], base: string): string | undefined {
  if (present.includes(base)) return base;
  if (present.includes(`${base}.gz`)) return `${base}.gz`;
  return undefined;
}

const stripGz = (file: string): string => file.replace(/\.gz$/, '');

async function download(spec: MnistSpec, folder: string, files: readonly (readonly [string, string])[]): Promise<void> {
  const platform = getPlatform();
  const failures: string[] = [];
  for (const [file, checksum] of files) {
    let done = false;
    for (const mirror of spec.mirrors) {
      const url = mirror + file;
      try {
        const response = await fetch(url);
        if (!response.ok) {
          failures.push(`${url}: HTTP ${response.status}`);
          continue;
        }
        const bytes = new Uint8Array(await response.arrayBuffer());
        const sum = md5(bytes);
        if (sum !== checksum) {
          failures.push(`${url}: MD5 ${sum}, expected ${checksum}`);
          continue;
        }
        await platform.mkdirp(folder);
        await platform.writeFile(`${folder}/${file}`, bytes);
        done = true;
        break;
      } catch (error) {
        failures.push(`${url}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (!done) {
      const all = spec.resources.map(([f]) => f).join(', ');
      throw new DatasetError(
        `${spec.name}: download failed; expected ${file} (MD5 ${checksum}) from ${spec.mirrors.join(' or ')}, got ${failures.join('; ')}. ` +
          `Without a network, put the files ${all} (gzipped or not) in ${folder}/ and load again`,
      );
    }
  }
}

async function readIdx(folder: string, file: string): Promise<IdxData> {
  const path = `${folder}/${file}`;
  let bytes = await getPlatform().readFile(path);
  if (file.endsWith('.gz')) bytes = await gunzip(bytes, path);
  return parseIdx(bytes, path);
}

/**
 * Finds (and with `download`, fetches) the files of `spec`, then parses and
 * checks them. Used by MNIST.load and FashionMNIST.load; other IDX datasets
 * with the same layout (KMNIST, ...) can pass their own spec.
 * @example const arrays = await loadMnistArrays(MNIST_SPEC, 'data', { train: false });
 */
export async function loadMnistArrays(
  spec: MnistSpec,
  root: string,
  options: { readonly train?: boolean; readonly download?: boolean } = {},
): Promise<ImageArrays> {
  const { train = true, download: fetchMissing = false } = options;
  if (typeof train !== 'boolean' || typeof fetchMissing !== 'boolean') {
    throw new ValueError(
      `${spec.name}: train and download must be booleans; expected true or false, got train ${String(train)}, download ${String(fetchMissing)}`,
    );
  }
  const folder = rawFolder(root, spec.name);
  const prefix = train ? 'train' : 't10k';
  const wanted = [`${prefix}-images-idx3-ubyte`, `${prefix}-labels-idx1-ubyte`];
  let present = (await listOrEmpty(folder)) ?? [];
  if (fetchMissing) {
    const missing = spec.resources.filter(([file]) => pick(present, stripGz(file)) === undefined);
    if (missing.length > 0) {
      await download(spec, folder, missing);
      present = (await listOrEmpty(folder)) ?? [];
    }
  }
  const [imagesFile, labelsFile] = wanted.map((base) => pick(present, base));
  if (imagesFile === undefined || labelsFile === undefined) {
    const listed = present.length === 0 ? 'an empty or missing folder' : present.join(', ');
    throw new DatasetError(
      `${spec.name}: dataset not found; expected ${wanted.map((w) => `${w}[.gz]`).join(' and ')} in ${folder}/, got ${listed}. ` +
        `Pass download: true to fetch ${spec.resources.map(([f]) => f).join(', ')} from ${spec.mirrors.join(' or ')}, or copy those files into ${folder}/`,
    );
  }
  const images = await readIdx(folder, imagesFile);
  const labels = await readIdx(folder, labelsFile);
  if (images.dtype !== 'uint8' || images.shape.length !== 3) {
    throw new FormatError(
      `${folder}/${imagesFile}: not an image file; expected uint8 [N, H, W], got ${images.dtype} [${images.shape.join(',')}]`,
    );
  }
  if (labels.dtype !== 'uint8' || labels.shape.length !== 1) {
    throw new FormatError(
      `${folder}/${labelsFile}: not a label file; expected uint8 [N], got ${labels.dtype} [${labels.shape.join(',')}]`,
    );
  }
  if (labels.shape[0] !== images.shape[0]) {
    throw new FormatError(
      `${spec.name}: images and labels differ in count; expected ${images.shape[0]} labels for ${imagesFile}, got ${labels.shape[0]} in ${labelsFile}`,
    );
  }
  return {
    data: images.data as Uint8Array,
    targets: labels.data as Uint8Array,
    height: images.shape[1]!,
    width: images.shape[2]!,
    channels: 1,
    classes: spec.classes,
  };
}

function checkOptions(name: string, options: object): void {
  const unknown = Object.keys(options).filter((k) => !OPTION_NAMES.includes(k));
  if (unknown.length > 0) {
    throw new ValueError(
      `${name}: unknown option ${unknown.join(', ')}; expected one of ${OPTION_NAMES.join(', ')}, got ${unknown.join(', ')}`,
    );
  }
}

/**
 * The MNIST digits (torchvision.datasets.MNIST): 60,000 training or 10,000
 * test images of 28x28, labels 0-9. Items are `[image, label]`; without a
 * transform the image is a {@link RawImage} (uint8, 28x28x1), and
 * `transform: new ToTensor()` makes it a float32 `[1, 28, 28]` tensor.
 * @example
 * const train = await MNIST.load('data', { download: true, transform: new ToTensor() });
 * const [x, y] = train.getItem(0); // Tensor [1, 28, 28], 5
 */
export class MNIST<X = RawImage, Y = number> extends ImageClassificationDataset<X, Y> {
  /** True for the training split. */
  readonly train: boolean;

  /** @internal Use `await MNIST.load(root, options)`. */
  constructor(arrays: ImageArrays, options: MnistOptions<X, Y> = {}) {
    super(arrays, options);
    this.train = options.train ?? true;
  }

  /** Reads (and with `download`, first fetches) the split from `<root>/MNIST/raw/`. */
  static async load<X = RawImage, Y = number>(root: string, options: MnistOptions<X, Y> = {}): Promise<MNIST<X, Y>> {
    checkOptions('MNIST', options);
    return new MNIST(await loadMnistArrays(MNIST_SPEC, root, options), options);
  }
}

/**
 * Zalando's Fashion-MNIST (torchvision.datasets.FashionMNIST): the same
 * format as MNIST, 10 clothing classes, read from `<root>/FashionMNIST/raw/`.
 * @example
 * const test = await FashionMNIST.load('data', { train: false, transform: new ToTensor() });
 * test.classes[test.targets[0]!] // 'Ankle boot'
 */
export class FashionMNIST<X = RawImage, Y = number> extends MNIST<X, Y> {
  /** Reads (and with `download`, first fetches) the split from `<root>/FashionMNIST/raw/`. */
  static override async load<X = RawImage, Y = number>(
    root: string,
    options: MnistOptions<X, Y> = {},
  ): Promise<FashionMNIST<X, Y>> {
    checkOptions('FashionMNIST', options);
    return new FashionMNIST(await loadMnistArrays(FASHION_MNIST_SPEC, root, options), options);
  }
}
