/**
 * autocast: matmul, F.linear and conv2d compute on 16-bit values inside the scope and pass
 * the precision hint to the backend; weights stay float32 masters; the cast's gradient is
 * the 16-bit gradient; the scope ends with its function, sync or async.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../runtime/backend.ts';
import { autocast, autocastDType } from '../../runtime/amp/index.ts';
import { conv2d, linear, matmul, tensor } from '../../runtime/tensor/index.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { ValueError } from '../../runtime/errors.ts';
import { roundToBFloat16, roundToHalf } from '../../runtime/float16.ts';
import type { MatmulAttrs, OpAttrs, OpName } from '../../runtime/ops.ts';
import { Parameter } from '../../runtime/nn/index.ts';
import { BACKENDS, values } from '../nn/helpers.ts';

/** `backend`, recording the attrs of every matmul it runs. */
function spying(backend: Backend, seen: MatmulAttrs[]): Backend {
  return {
    name: backend.name,
    capabilities: backend.capabilities,
    alloc: (d, n) => backend.alloc(d, n),
    free: (b) => backend.free(b),
    write: (b, d, o) => (o === undefined ? backend.write(b, d) : backend.write(b, d, o)),
    read: (b, o, n) => backend.read(b, o, n),
    readSync: (b, o, n) => backend.readSync(b, o, n),
    run<O extends OpName>(
      op: O,
      out: Parameters<Backend['run']>[1],
      inputs: Parameters<Backend['run']>[2],
      attrs: OpAttrs[O],
    ): void {
      if (op === 'matmul') seen.push(attrs as MatmulAttrs);
      backend.run(op, out, inputs, attrs);
    },
    memory: () => backend.memory(),
    dispose: () => backend.dispose(),
  };
}

/** Plain float64 x·wᵀ + b over arrays, the values then rounded with `round`. */
function linearRef(x: number[][], w: number[][], b: number[], round: (v: number) => number): number[] {
  const out: number[] = [];
  for (const row of x) {
    for (let o = 0; o < w.length; o++) {
      let s = round(b[o]!);
      for (let k = 0; k < row.length; k++) s += round(row[k]!) * round(w[o]![k]!);
      out.push(round(Math.fround(s)));
    }
  }
  return out;
}

const X = [
  [0.1, -0.7, 1.3333],
  [2.5, 0.0001234, -3.1],
];
const W = [
  [0.3, 0.71, -0.2],
  [1e-5, -0.5, 0.9],
];
const B = [0.05, -0.11];

for (const base of BACKENDS) {
  describe(`autocast on ${base.name}`, () => {
    const seen: MatmulAttrs[] = [];
    const backend = spying(base, seen);
    beforeEach(() => {
      setDefaultBackend(backend);
      seen.length = 0;
    });
    afterEach(() => {
      seen.length = 0;
    });

    it('autocast: linear rounds input, weight and bias to float16, computes, and returns float16 values; the weight stays float32', async () => {
      const x = tensor(X);
      const w = new Parameter(tensor(W));
      const b = new Parameter(tensor(B));
      const y = autocast({ dtype: 'float16' }, () => linear(x, w, b));
      const expected = linearRef(X, W, B, roundToHalf);
      const got = await values(y);
      got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
      for (const v of got) expect(roundToHalf(v)).toBe(v);
      expect(await values(w)).toEqual(W.flat().map(Math.fround));
      expect(seen).toEqual([{ precision: 'f16' }]);
    });

    it('autocast: bfloat16 rounds to bfloat16 and passes precision bf16', async () => {
      const y = autocast({ dtype: 'bfloat16' }, () => matmul(tensor(X), tensor(W).t()));
      const got = await values(y);
      const expected = linearRef(X, W, [0, 0], roundToBFloat16);
      got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
      for (const v of got) expect(roundToBFloat16(v)).toBe(v);
      expect(seen).toEqual([{ precision: 'bf16' }]);
    });

    it('autocast: outside the scope matmul is plain float32 with no hint', async () => {
      const y = matmul(tensor([[0.1]]), tensor([[0.3]]));
      expect(await values(y)).toEqual([Math.fround(Math.fround(0.1) * Math.fround(0.3))]);
      expect(seen).toEqual([{}]);
      expect(autocastDType()).toBe(null);
    });

    it('autocast: conv2d (im2col + matmul) computes on float16 values', async () => {
      const x = tensor([
        [
          [
            [0.1, 0.2, 0.3],
            [0.4, 0.5, 0.6],
            [0.7, 0.8, 0.9],
          ],
        ],
      ]);
      const w = tensor([
        [
          [
            [0.11, -0.3],
            [0.5, 0.77],
          ],
        ],
      ]);
      const y = autocast({ dtype: 'float16' }, () => conv2d(x, w));
      const got = await values(y);
      const xs = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map(roundToHalf);
      const ws = [0.11, -0.3, 0.5, 0.77].map(roundToHalf);
      const at = (i: number, j: number) =>
        roundToHalf(
          Math.fround(
            xs[i * 3 + j]! * ws[0]! +
              xs[i * 3 + j + 1]! * ws[1]! +
              xs[(i + 1) * 3 + j]! * ws[2]! +
              xs[(i + 1) * 3 + j + 1]! * ws[3]!,
          ),
        );
      [at(0, 0), at(0, 1), at(1, 0), at(1, 1)].forEach((e, i) => expect(got[i]).toBeCloseTo(e, 6));
      expect(seen.every((a) => a.precision === 'f16')).toBe(true);
    });

    it('autocast: float16 overflow in the forward gives Infinity, as a half tensor would', async () => {
      const y = autocast({ dtype: 'float16' }, () => matmul(tensor([[300, 300]]), tensor([[200], [200]])));
      expect(await values(y)).toEqual([Infinity]);
    });

    it("autocast: the weight's gradient is the float16 gradient (tiny values flush to zero, as unscaled f16 gradients do)", async () => {
      const w = new Parameter(tensor([[1, 1]]));
      const x = tensor([[1e-4, 3e-8]]);
      autocast({ dtype: 'float16' }, () => linear(x, w))
        .mul(1e-3)
        .sum()
        .backward();
      const g = await values(w.grad!);
      // dL/dw = 1e-3 · x: 1e-7 is below the smallest f16 subnormal's half-step, 3e-11 too.
      expect(g).toEqual([roundToHalf(Math.fround(1e-3 * roundToHalf(1e-4))), 0]);
      expect(g[0]).toBe(1.1920928955078125e-7);
    });

    it('autocast: an async function keeps the scope until it settles, then restores it; nesting and enabled: false work', async () => {
      const inner = await autocast({ dtype: 'bfloat16' }, async () => {
        await Promise.resolve();
        const during = autocastDType();
        const nested = autocast({ dtype: 'float16' }, () => autocastDType());
        const off = autocast({ dtype: 'float16', enabled: false }, () => autocastDType());
        return [during, nested, off, autocastDType()];
      });
      expect(inner).toEqual(['bfloat16', 'float16', null, 'bfloat16']);
      expect(autocastDType()).toBe(null);
      expect(() =>
        autocast({ dtype: 'float16' }, () => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(autocastDType()).toBe(null);
    });

    it('autocast: an unknown dtype is a ValueError naming the accepted ones', () => {
      expect(() => autocast({ dtype: 'float8' as never }, () => 1)).toThrow(ValueError);
      expect(() => autocast({ dtype: 'float8' as never }, () => 1)).toThrow(
        /expected 'float16' or 'bfloat16', got "float8"/,
      );
    });
  });
}
