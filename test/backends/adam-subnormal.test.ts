/**
 * @module adam-subnormal.test — ops.ts's one departure from torch in `adam`: an m or v result
 * below float32's smallest normal (2^-126) is stored as a zero of its sign, on every backend.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend, TensorView } from '../../runtime/backend.ts';
import { availableBackends } from '../helpers/backends.ts';

const SMALLEST = 2 ** -126;
const f = Math.fround;

describe('adam: subnormal moments', () => {
  const made: Backend[] = [];
  afterAll(() => {
    for (const b of made) b.dispose();
  });

  it('adam: m and v that fall below 2^-126 are flushed to a signed zero; normal ones are kept (every backend)', async () => {
    const backends = await availableBackends();
    made.push(...backends);
    // g = 0, so m' = m·β1 and v' = v·β2: lanes that stay normal, fall just below, negative, far away
    const m = [SMALLEST / 0.8, SMALLEST * 1.05, -SMALLEST * 1.05, 1e-3, 0, SMALLEST * 2];
    const v = [SMALLEST / 0.99, SMALLEST * 1.0005, SMALLEST * 0.5, 1e-6, 1e-30, SMALLEST * 1.0002];
    const n = m.length;
    const expectFlushed = (x: number[], factor: number): number[] =>
      x.map((e) => {
        const y = f(f(e) * f(factor));
        return Math.abs(y) < SMALLEST ? (y < 0 || Object.is(y, -0) ? -0 : 0) : y;
      });
    const attrs = {
      lr: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
      maximize: false,
      decoupled: false,
      stepSize: 1e-3,
      bc2Sqrt: 1,
      count: 1,
    };
    for (const backend of backends) {
      const view = (data: number[]): TensorView => {
        const buffer = backend.alloc('float32', n);
        backend.write(buffer, new Float32Array(data));
        return { buffer, dtype: 'float32', shape: [n], strides: [1], offset: 0 };
      };
      const [p, g, mv, vv] = [view(new Array(n).fill(0.5)), view(new Array(n).fill(0)), view(m), view(v)];
      backend.run('adam', p, [p, g, mv, vv], attrs);
      const mOut = Array.from(await backend.read(mv.buffer, 0, n));
      const vOut = Array.from(await backend.read(vv.buffer, 0, n));
      for (const t of [p, g, mv, vv]) backend.free(t.buffer);
      expect(mOut, `${backend.name}: m`).toEqual(expectFlushed(m, 0.9));
      expect(vOut, `${backend.name}: v`).toEqual(expectFlushed(v, 0.999));
    }
    // the lanes straddle the threshold, and -0 is asserted (toEqual tells -0 from 0)
    expect(expectFlushed(m, 0.9).slice(0, 3)).toEqual([f(f(SMALLEST / 0.8) * f(0.9)), 0, -0]);
  });
});
