/**
 * @module data/mnist.test — MNIST and FashionMNIST from torchvision's folder layout
 * (gzipped and not), the missing-files and download messages, corrupt files,
 * the batch path, and the real Fashion-MNIST files of Debian's dataset-fashion-mnist.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ValueError } from '../../runtime/errors.ts';
import { FormatError } from '../../runtime/io/errors.ts';
import { gzip } from '../../runtime/io/gzip.ts';
import { encodeIdx } from '../../runtime/io/idx.ts';
import { DataLoader } from '../../runtime/data/dataloader.ts';
import { DatasetError } from '../../runtime/data/errors.ts';
import { RawImage } from '../../runtime/data/raw-image.ts';
import { md5 } from '../../runtime/data/md5.ts';
import { FashionMNIST, MNIST, loadMnistArrays, type MnistSpec } from '../../runtime/data/mnist.ts';
import { Compose, Normalize, ToTensor } from '../../runtime/data/transforms.ts';
import type { Tensor } from '../../runtime/tensor/index.ts';
import { tempFolder, useTestRuntime } from './setup.ts';

let root: string;
let cleanup: () => Promise<void>;

/** RawImage `k` of a split: pixel (y, x) = (k * 40 + y + x) mod 256. */
function images(n: number): Uint8Array {
  const data = new Uint8Array(n * 784);
  for (let k = 0; k < n; k++)
    for (let p = 0; p < 784; p++) data[k * 784 + p] = (k * 40 + Math.floor(p / 28) + (p % 28)) & 0xff;
  return data;
}

const TRAIN_LABELS = [5, 0, 4, 1, 9];
const TEST_LABELS = [7, 2, 1];

async function writeSplit(folder: string, prefix: string, labels: readonly number[], gz: boolean): Promise<void> {
  const img = encodeIdx({ dtype: 'uint8', shape: [labels.length, 28, 28], data: images(labels.length) });
  const lab = encodeIdx({ dtype: 'uint8', shape: [labels.length], data: Uint8Array.from(labels) });
  const suffix = gz ? '.gz' : '';
  await writeFile(join(folder, `${prefix}-images-idx3-ubyte${suffix}`), gz ? await gzip(img) : img);
  await writeFile(join(folder, `${prefix}-labels-idx1-ubyte${suffix}`), gz ? await gzip(lab) : lab);
}

function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error,
  );
}

beforeAll(async () => {
  useTestRuntime();
  ({ path: root, cleanup } = await tempFolder());
  const raw = join(root, 'MNIST', 'raw');
  await mkdir(raw, { recursive: true });
  await writeSplit(raw, 'train', TRAIN_LABELS, true);
  await writeSplit(raw, 't10k', TEST_LABELS, false);
});

afterAll(async () => {
  await cleanup();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('MNIST', () => {
  it('MNIST: reads the gzipped train split from <root>/MNIST/raw', async () => {
    const ds = await MNIST.load(root);
    expect(ds.length).toBe(5);
    expect(ds.train).toBe(true);
    expect(Array.from(ds.targets)).toEqual(TRAIN_LABELS);
    expect(ds.classes[5]).toBe('5 - five');
    const [img, label] = ds.getItem(1);
    expect(img).toBeInstanceOf(RawImage);
    expect([img.height, img.width, img.channels]).toEqual([28, 28, 1]);
    expect(img.at(0, 0)).toBe(40);
    expect(img.at(27, 27)).toBe(94);
    expect(label).toBe(0);
  });

  it('MNIST: reads the uncompressed test split, and a root with a trailing slash', async () => {
    const ds = await MNIST.load(`${root}/`, { train: false });
    expect(ds.length).toBe(3);
    expect(Array.from(ds.targets)).toEqual(TEST_LABELS);
    expect(ds.getItem(2)[0].at(1, 2)).toBe(83);
  });

  it('MNIST: transform and targetTransform apply per item (objects or functions)', async () => {
    const ds = await MNIST.load(root, { transform: new ToTensor(), targetTransform: (y: number) => `digit ${y}` });
    const [x, y] = ds.getItem(0);
    expect(x.shape).toEqual([1, 28, 28]);
    expect(x.dtype).toBe('float32');
    const values = await x.data();
    expect(values[0]).toBe(0);
    expect(values[28 * 27 + 27]).toBe(Math.fround(54 / 255));
    expect(y).toBe('digit 5');
  });

  it('MNIST: DataLoader batches of ToTensor+Normalize come whole, equal to per-item stacking', async () => {
    const transform = new Compose<RawImage, Tensor>([new ToTensor(), new Normalize([0.1307], [0.3081])]);
    const ds = await MNIST.load(root, { transform });
    expect(typeof ds.getBatch).toBe('function');
    const fast: [Tensor, Tensor][] = [];
    for await (const b of new DataLoader(ds, { batchSize: 2 })) fast.push(b);
    expect(fast.map(([x]) => x.shape)).toEqual([
      [2, 1, 28, 28],
      [2, 1, 28, 28],
      [1, 1, 28, 28],
    ]);
    expect(fast.map(([, y]) => y.dtype)).toEqual(['int32', 'int32', 'int32']);
    expect(Array.from(await fast[2]![1].data())).toEqual([9]);
    const x0 = Array.from(await fast[0]![0].data());
    const items = [await ds.getItem(0)[0].data(), await ds.getItem(1)[0].data()];
    expect(x0).toEqual([...Array.from(items[0]!), ...Array.from(items[1]!)]);
    // A Lambda has no batch form: items then go through getItem and collate.
    const plain = await MNIST.load(root, { transform: (img: RawImage) => img.at(0, 0) });
    expect(plain.getBatch).toBeUndefined();
  });

  it('MNIST: missing files name the files and the folder', async () => {
    const { path: empty, cleanup: done } = await tempFolder();
    try {
      const e = await rejection(MNIST.load(empty));
      expect(e).toBeInstanceOf(DatasetError);
      expect(e.message).toBe(
        `MNIST: dataset not found; expected train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] in ${empty}/MNIST/raw/, got an empty or missing folder. ` +
          `Pass download: true to fetch train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz from https://ossci-datasets.s3.amazonaws.com/mnist/ or http://yann.lecun.com/exdb/mnist/, or copy those files into ${empty}/MNIST/raw/`,
      );
    } finally {
      await done();
    }
  });

  it('MNIST: download offline fails with the files expected and the folder to put them in', async () => {
    const { path: empty, cleanup: done } = await tempFolder();
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('fetch failed')));
    try {
      const e = await rejection(MNIST.load(empty, { download: true }));
      expect(e).toBeInstanceOf(DatasetError);
      expect(e.message).toMatch(
        /^MNIST: download failed; expected train-images-idx3-ubyte\.gz \(MD5 f68b3c2dcbeaaa9fbdd348bbdeb94873\) from https:\/\/ossci-datasets\.s3\.amazonaws\.com\/mnist\/ or http:\/\/yann\.lecun\.com\/exdb\/mnist\/, got https:\/\/ossci-datasets\.s3\.amazonaws\.com\/mnist\/train-images-idx3-ubyte\.gz: fetch failed; /,
      );
      expect(e.message).toContain(
        `Without a network, put the files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (gzipped or not) in ${empty}/MNIST/raw/ and load again`,
      );
    } finally {
      await done();
    }
  });

  it("MNIST: a download whose MD5 differs from torchvision's is refused and not written", async () => {
    const { path: empty, cleanup: done } = await tempFolder();
    const urls: string[] = [];
    vi.stubGlobal('fetch', (url: string) => {
      urls.push(url);
      return Promise.resolve(new Response(new Uint8Array([1, 2, 3])));
    });
    try {
      const e = await rejection(MNIST.load(empty, { download: true }));
      expect(e).toBeInstanceOf(DatasetError);
      expect(e.message).toContain(
        `https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz: MD5 ${md5(new Uint8Array([1, 2, 3]))}, expected f68b3c2dcbeaaa9fbdd348bbdeb94873`,
      );
      expect(urls).toEqual([
        'https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz',
        'http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz',
      ]);
      expect(existsSync(join(empty, 'MNIST', 'raw', 'train-images-idx3-ubyte.gz'))).toBe(false);
    } finally {
      await done();
    }
  });

  it('MNIST: download fetches the missing files, checks MD5, writes them, then loads', async () => {
    const files = new Map<string, Uint8Array>();
    const img = encodeIdx({ dtype: 'uint8', shape: [2, 28, 28], data: images(2) });
    const lab = encodeIdx({ dtype: 'uint8', shape: [2], data: new Uint8Array([3, 8]) });
    for (const prefix of ['train', 't10k']) {
      files.set(`${prefix}-images-idx3-ubyte.gz`, await gzip(img));
      files.set(`${prefix}-labels-idx1-ubyte.gz`, await gzip(lab));
    }
    const spec: MnistSpec = {
      name: 'TinyMNIST',
      mirrors: ['https://down.example/', 'https://mirror.example/'],
      resources: [...files].map(([name, bytes]) => [name, md5(bytes)] as const),
      classes: [],
    };
    const fetched: string[] = [];
    vi.stubGlobal('fetch', (url: string) => {
      fetched.push(url);
      if (url.startsWith('https://down.example/')) return Promise.resolve(new Response('gone', { status: 404 }));
      return Promise.resolve(
        new Response(files.get(url.slice('https://mirror.example/'.length)) as Uint8Array<ArrayBuffer>),
      );
    });
    const { path: empty, cleanup: done } = await tempFolder();
    try {
      const arrays = await loadMnistArrays(spec, empty, { download: true });
      expect(Array.from(arrays.targets)).toEqual([3, 8]);
      expect((await readdir(join(empty, 'TinyMNIST', 'raw'))).sort()).toEqual([...files.keys()].sort());
      expect(fetched.length).toBe(8);
      // Present files are not fetched again.
      fetched.length = 0;
      await loadMnistArrays(spec, empty, { download: true, train: false });
      expect(fetched).toEqual([]);
    } finally {
      await done();
    }
  });

  it('MNIST: truncated or mismatched files are FormatErrors naming the file', async () => {
    const { path: bad, cleanup: done } = await tempFolder();
    const raw = join(bad, 'MNIST', 'raw');
    await mkdir(raw, { recursive: true });
    try {
      const img = encodeIdx({ dtype: 'uint8', shape: [2, 28, 28], data: images(2) });
      await writeFile(join(raw, 'train-images-idx3-ubyte'), img.subarray(0, 1000));
      await writeFile(
        join(raw, 'train-labels-idx1-ubyte'),
        encodeIdx({ dtype: 'uint8', shape: [2], data: new Uint8Array(2) }),
      );
      let e = await rejection(MNIST.load(bad));
      expect(e).toBeInstanceOf(FormatError);
      expect(e.message).toBe(
        `${raw}/train-images-idx3-ubyte: truncated data; expected 1568 bytes for shape [2,28,28] uint8, got 984`,
      );
      await writeFile(join(raw, 'train-images-idx3-ubyte'), img);
      await writeFile(
        join(raw, 'train-labels-idx1-ubyte'),
        encodeIdx({ dtype: 'uint8', shape: [3], data: new Uint8Array(3) }),
      );
      e = await rejection(MNIST.load(bad));
      expect(e.message).toBe(
        'MNIST: images and labels differ in count; expected 2 labels for train-images-idx3-ubyte, got 3 in train-labels-idx1-ubyte',
      );
      const gz = await gzip(img);
      await writeFile(join(raw, 't10k-images-idx3-ubyte.gz'), gz.subarray(0, gz.length - 20));
      await writeFile(
        join(raw, 't10k-labels-idx1-ubyte'),
        encodeIdx({ dtype: 'uint8', shape: [2], data: new Uint8Array(2) }),
      );
      e = await rejection(MNIST.load(bad, { train: false }));
      expect(e).toBeInstanceOf(FormatError);
      expect(e.message).toMatch(
        new RegExp(`^${raw.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/t10k-images-idx3-ubyte\\.gz: corrupt gzip data`),
      );
    } finally {
      await done();
    }
  });

  it('MNIST: new MNIST(root) points to MNIST.load', () => {
    expect(() => new MNIST('data' as never)).toThrow(
      'MNIST: the constructor takes parsed arrays; expected await MNIST.load(root, options), got new MNIST("data")',
    );
  });

  it('MNIST: unknown options are ValueErrors', async () => {
    const e = await rejection(MNIST.load(root, { target_transform: 1 } as never));
    expect(e).toBeInstanceOf(ValueError);
    expect(e.message).toBe(
      'MNIST: unknown option target_transform; expected one of train, download, transform, targetTransform, got target_transform',
    );
  });
});

const DEBIAN_FASHION = '/usr/share/datasets/fashion-mnist';
const FASHION_FILES = [
  'train-images-idx3-ubyte.gz',
  'train-labels-idx1-ubyte.gz',
  't10k-images-idx3-ubyte.gz',
  't10k-labels-idx1-ubyte.gz',
];
const haveFashion = FASHION_FILES.every((f) => existsSync(join(DEBIAN_FASHION, f)));
const inCi = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';

describe.skipIf(!haveFashion && !inCi)('FashionMNIST (real files)', () => {
  it("FashionMNIST: reads Debian's dataset-fashion-mnist files through torchvision's layout", async () => {
    if (!haveFashion) {
      throw new Error(
        `FashionMNIST test: the real files are missing; expected ${FASHION_FILES.join(', ')} in ${DEBIAN_FASHION} (apt-get install dataset-fashion-mnist), got CI=${process.env['CI']} without them`,
      );
    }
    const { path: fashionRoot, cleanup: done } = await tempFolder();
    try {
      const raw = join(fashionRoot, 'FashionMNIST', 'raw');
      await mkdir(raw, { recursive: true });
      for (const f of FASHION_FILES) await symlink(join(DEBIAN_FASHION, f), join(raw, f));
      const train = await FashionMNIST.load(fashionRoot, { transform: new ToTensor() });
      expect(train).toBeInstanceOf(FashionMNIST);
      expect(train.length).toBe(60000);
      expect([train.height, train.width]).toEqual([28, 28]);
      expect(train.data.length).toBe(60000 * 784);
      const counts = new Array<number>(10).fill(0);
      for (const t of train.targets) counts[t]!++;
      expect(counts).toEqual(new Array<number>(10).fill(6000));
      expect(train.classes[train.targets[0]!]).toBe('Ankle boot');
      const [x, y] = train.getItem(0);
      expect(x.shape).toEqual([1, 28, 28]);
      expect(y).toBe(9);
      const test = await FashionMNIST.load(fashionRoot, { train: false });
      expect(test.length).toBe(10000);
      const testCounts = new Array<number>(10).fill(0);
      for (const t of test.targets) testCounts[t]!++;
      expect(testCounts).toEqual(new Array<number>(10).fill(1000));
    } finally {
      await done();
    }
  });
});
