/**
 * @module data/transforms.test — ToTensor, Normalize, Compose, Lambda: values as torchvision gives them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DTypeError, ShapeError, ValueError } from '../../runtime/errors.ts';
import { arange, tensor, type Tensor } from '../../runtime/tensor/index.ts';
import { RawImage } from '../../runtime/data/raw-image.ts';
import { Compose, Lambda, Normalize, ToTensor } from '../../runtime/data/transforms.ts';
import { useTestRuntime } from './setup.ts';

beforeAll(() => {
  useTestRuntime();
});

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('transforms', () => {
  it('ToTensor: uint8 HW1 -> float32 [1, H, W] divided by 255', async () => {
    const img = new RawImage(new Uint8Array([0, 51, 255, 128, 1, 2]), 2, 3, 1);
    const t = new ToTensor().forward(img);
    expect(t.shape).toEqual([1, 2, 3]);
    expect(t.dtype).toBe('float32');
    expect(Array.from(await t.data())).toEqual([0, 51, 255, 128, 1, 2].map((v) => Math.fround(v / 255)));
  });

  it('ToTensor: HWC with 3 channels becomes CHW', async () => {
    // 1x2 image: pixel 0 = (10, 20, 30), pixel 1 = (40, 50, 60)
    const img = new RawImage(new Uint8Array([10, 20, 30, 40, 50, 60]), 1, 2, 3);
    const t = new ToTensor().forward(img);
    expect(t.shape).toEqual([3, 1, 2]);
    expect(Array.from(await t.data())).toEqual([10, 40, 20, 50, 30, 60].map((v) => Math.fround(v / 255)));
    expect(thrown(() => new ToTensor().forward(tensor([1]) as never)).message).toBe(
      'ToTensor: unsupported input; expected a RawImage (uint8 HWC), got a Tensor of shape [1]',
    );
  });

  it('Normalize: (x - mean) / std per channel, and with one value for all', async () => {
    const x = arange(12).float().reshape([3, 2, 2]);
    const y = new Normalize([1, 2, 3], [1, 2, 4]).forward(x);
    const expected = Array.from({ length: 12 }, (_, i) => {
      const c = Math.floor(i / 4);
      return Math.fround((i - [1, 2, 3][c]!) / [1, 2, 4][c]!);
    });
    expect(Array.from(await y.data())).toEqual(expected);
    const single = new Normalize([0.1307], [0.3081]).forward(tensor([[[0, 1]]]));
    const v = Array.from(await single.data());
    expect(v[0]).toBeCloseTo((0 - 0.1307) / 0.3081, 6);
    expect(v[1]).toBeCloseTo((1 - 0.1307) / 0.3081, 6);
    // A batch [N, C, H, W] normalizes per channel too.
    const batched = new Normalize([1, 2, 3], [1, 2, 4]).forward(x.unsqueeze(0));
    expect(Array.from(await batched.data())).toEqual(expected);
  });

  it('Normalize: bad arguments and inputs are typed errors', () => {
    expect(thrown(() => new Normalize([0], [0])).message).toBe(
      'Normalize: std evaluated to zero, leading to division by zero; expected non-zero values, got [0]',
    );
    expect(thrown(() => new Normalize([0, 0], [1, 1]).forward(arange(12).float().reshape([3, 2, 2])))).toBeInstanceOf(
      ShapeError,
    );
    expect(thrown(() => new Normalize([0], [1]).forward(arange(4).reshape([1, 2, 2])))).toBeInstanceOf(DTypeError);
    expect(thrown(() => new Normalize([0], [1]).forward(tensor([1, 2])))).toBeInstanceOf(ShapeError);
  });

  it('Compose and Lambda: apply in order', async () => {
    const t = new Compose<RawImage, Tensor>([
      new ToTensor(),
      new Normalize([0.5], [0.5]),
      new Lambda((x: Tensor) => x.flatten()),
    ]);
    const out = t.forward(new RawImage(new Uint8Array([0, 255, 0, 255]), 2, 2));
    expect(out.shape).toEqual([4]);
    expect(Array.from(await out.data())).toEqual([-1, 1, -1, 1]);
    expect(String(t)).toBe('Compose([ToTensor(), Normalize(mean=[0.5], std=[0.5]), Lambda()])');
    expect(thrown(() => new Compose([{} as never]))).toBeInstanceOf(ValueError);
    expect(new Lambda((s: string) => s.length).forward('abc')).toBe(3);
  });

  it('RawImage: checks its size', () => {
    expect(thrown(() => new RawImage(new Uint8Array(5), 2, 3)).message).toBe(
      'RawImage: data length does not match the size; expected 2*3*1 = 6 bytes, got 5',
    );
    expect(new RawImage(new Uint8Array([1, 2, 3, 4, 5, 6]), 2, 1, 3).at(1, 0, 2)).toBe(6);
  });
});
