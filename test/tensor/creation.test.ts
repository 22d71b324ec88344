/**
 * Creation functions, properties and readback on every available backend.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { getDefaultBackend, setDefaultBackend } from '../../runtime/default-backend.ts';
import { ValueError } from '../../runtime/errors.ts';
import {
  arange,
  eye,
  full,
  fullLike,
  linspace,
  manualSeed,
  ones,
  onesLike,
  rand,
  randint,
  randintLike,
  randLike,
  randn,
  randnLike,
  randperm,
  tensor,
  zeros,
  zerosLike,
  Generator,
} from '../../runtime/index.ts';
import { availableBackends } from '../helpers/backends.ts';

const backends = await availableBackends();
afterAll(() => {
  for (const b of backends) b.dispose();
});

/** torch.linspace for float32 (CPU scalar path): every step rounds to float32. */
function torchLinspaceF32(start: number, end: number, steps: number): number[] {
  const f = Math.fround;
  const s = f(start);
  const e = f(end);
  const step = f(f(e - s) / (steps - 1));
  const half = Math.floor(steps / 2);
  return Array.from({ length: steps }, (_, i) => (i < half ? f(s + f(step * i)) : f(e - f(step * (steps - 1 - i)))));
}

for (const backend of backends) {
  describe(`creation on ${backend.name}`, () => {
    beforeEach(() => setDefaultBackend(backend));

    it('tensor: nested arrays give float32 of the nested shape; booleans give bool; a number gives 0-d', async () => {
      const t = tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      expect(t.shape).toEqual([2, 3]);
      expect(t.dtype).toBe('float32');
      expect(t.backend).toBe(backend);
      expect(await t.tolist()).toEqual([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const b = tensor([[true, false]]);
      expect(b.dtype).toBe('bool');
      expect(await b.tolist()).toEqual([[true, false]]);
      const s = tensor(3.5);
      expect(s.shape).toEqual([]);
      expect(s.dim()).toBe(0);
      expect(s.numel()).toBe(1);
      expect(await s.item()).toBe(3.5);
      expect(await s.tolist()).toBe(3.5);
      const e = tensor([]);
      expect(e.shape).toEqual([0]);
      expect(await e.tolist()).toEqual([]);
      expect(Array.from(await tensor([0.1]).data())).toEqual([Math.fround(0.1)]);
    });

    it('tensor: typed arrays keep their dtype; an explicit dtype converts (float → int32 truncates)', async () => {
      const f = tensor(new Float32Array([1.5, -2]));
      expect(f.dtype).toBe('float32');
      expect(await f.tolist()).toEqual([1.5, -2]);
      const i = tensor(new Int32Array([7, -8, 9]));
      expect(i.dtype).toBe('int32');
      expect(await i.tolist()).toEqual([7, -8, 9]);
      const c = tensor([1.7, -1.7, 2], { dtype: 'int32' });
      expect(c.dtype).toBe('int32');
      expect(await c.tolist()).toEqual([1, -1, 2]);
      const data = await tensor([1, 2], { dtype: 'int32' }).data();
      expect(data).toBeInstanceOf(Int32Array);
      if (backend.capabilities.dtypes.includes('float64')) {
        const d = tensor(new Float64Array([0.1, 0.2]));
        expect(d.dtype).toBe('float64');
        expect(Array.from(await d.data())).toEqual([0.1, 0.2]);
      }
    });

    it('zeros/ones/full: accept sizes as arguments or one array, with options', async () => {
      for (const z of [zeros(2, 3), zeros([2, 3])]) {
        expect(z.shape).toEqual([2, 3]);
        expect(z.dtype).toBe('float32');
        expect(await z.tolist()).toEqual([
          [0, 0, 0],
          [0, 0, 0],
        ]);
      }
      const o = ones([3], { dtype: 'int32' });
      expect(o.dtype).toBe('int32');
      expect(await o.tolist()).toEqual([1, 1, 1]);
      expect(await ones(2, 1).tolist()).toEqual([[1], [1]]);
      expect(await full([2, 2], 7).tolist()).toEqual([
        [7, 7],
        [7, 7],
      ]);
      expect(full([2], true).dtype).toBe('bool');
      expect(zeros([]).shape).toEqual([]);
      expect(await zeros([]).item()).toBe(0);
      expect(zeros(0, 4).numel()).toBe(0);
      const r = zeros([2], { requiresGrad: true });
      expect(r.requiresGrad).toBe(true);
      expect(r.isLeaf).toBe(true);
    });

    it('zerosLike/onesLike/fullLike: copy shape, dtype and backend', async () => {
      const x = tensor([[1, 2, 3]], { dtype: 'int32' });
      for (const [t, v] of [
        [zerosLike(x), 0],
        [onesLike(x), 1],
        [fullLike(x, 4), 4],
      ] as const) {
        expect(t.shape).toEqual([1, 3]);
        expect(t.dtype).toBe('int32');
        expect(t.backend).toBe(backend);
        expect(await t.tolist()).toEqual([[v, v, v]]);
      }
      expect(zerosLike(x, { dtype: 'float32' }).dtype).toBe('float32');
    });

    it('arange: integer arguments give int32, fractional give float32, as torch.arange', async () => {
      const a = arange(5);
      expect(a.dtype).toBe('int32');
      expect(await a.tolist()).toEqual([0, 1, 2, 3, 4]);
      expect(await arange(2, 8, 3).tolist()).toEqual([2, 5]);
      expect(await arange(5, 0, -2).tolist()).toEqual([5, 3, 1]);
      const f = arange(0, 1, 0.25);
      expect(f.dtype).toBe('float32');
      expect(await f.tolist()).toEqual([0, 0.25, 0.5, 0.75]);
      expect(arange(3, 3).shape).toEqual([0]);
      expect((await arange(0, 1, 0.1).data()).length).toBe(10);
    });

    it('arange: options may follow one, two or three bounds (torch keyword arguments); misplaced arguments are ValueErrors', async () => {
      const backend = getDefaultBackend();
      const one = arange(5, { backend, dtype: 'float32' });
      expect([one.dtype, await one.tolist()]).toEqual(['float32', [0, 1, 2, 3, 4]]);
      expect(await arange(2, 5, { dtype: 'float32' }).tolist()).toEqual([2, 3, 4]);
      expect(arange(2, 5, { dtype: 'float32' }).dtype).toBe('float32');
      expect(await arange(1, 2, 0.5, {}).tolist()).toEqual([1, 1.5]);
      const loose = arange as unknown as (...args: unknown[]) => unknown;
      expect(() => loose(5, {}, 3)).toThrow(ValueError);
      expect(() => loose(5, {}, 3)).toThrow(
        'arange: argument 3 after the options object; expected the options last, got number',
      );
      expect(() => loose('5')).toThrow(
        'arange: argument 1 must be a number or an options object; expected a number, got string',
      );
      expect(() => loose({})).toThrow(
        'arange: no bounds; expected arange(end), arange(start, end) or arange(start, end, step), got none',
      );
    });

    it('linspace: matches torch.linspace values bit for bit (float32 arithmetic, from both ends)', async () => {
      for (const [s, e, n] of [
        [0, 1, 7],
        [-1, 1, 7],
        [0, 10, 11],
        [0.1, 0.9, 9],
        [-3.3, 7.7, 13],
        [2, -5, 15],
        [0.3, 0.7, 11],
      ] as const) {
        const t = linspace(s, e, n);
        expect(t.dtype).toBe('float32');
        expect(Array.from(await t.data()), `linspace(${s}, ${e}, ${n})`).toEqual(torchLinspaceF32(s, e, n));
      }
      // torch.linspace(-1, 1, 7)[1] is -0.6666666269302368, not round(-2/3).
      expect((await linspace(-1, 1, 7).data())[1]).toBe(-0.6666666269302368);
      expect(await linspace(3, 9, 1).tolist()).toEqual([3]);
      expect(linspace(0, 1, 0).shape).toEqual([0]);
      expect(await linspace(0, 10, 5, { dtype: 'int32' }).tolist()).toEqual([0, 2, 5, 7, 10]);
    });

    it('eye: ones on the diagonal of an n×m matrix', async () => {
      expect(await eye(3).tolist()).toEqual([
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ]);
      expect(await eye(2, 3).tolist()).toEqual([
        [1, 0, 0],
        [0, 1, 0],
      ]);
      expect(await eye(3, 2, { dtype: 'int32' }).tolist()).toEqual([
        [1, 0],
        [0, 1],
        [0, 0],
      ]);
    });

    it('rand/randn/randint: shapes, dtypes, ranges and seeded reproducibility, with *Like forms', async () => {
      manualSeed(7);
      const a = rand(2, 3);
      const b = randn([4]);
      const c = randint(-3, 3, [50]);
      manualSeed(7);
      expect(await rand([2, 3]).tolist()).toEqual(await a.tolist());
      expect(await randn(4).tolist()).toEqual(await b.tolist());
      expect(await randint(-3, 3, [50]).tolist()).toEqual(await c.tolist());
      expect(a.shape).toEqual([2, 3]);
      expect(a.dtype).toBe('float32');
      for (const v of await a.data()) expect(v >= 0 && v < 1).toBe(true);
      expect(c.dtype).toBe('int32');
      const cv = Array.from(await c.data());
      for (const v of cv) expect(Number.isInteger(v) && v >= -3 && v < 3).toBe(true);
      expect(new Set(cv).size, 'all six values appear in 50 draws').toBe(6);
      const x = zeros([3, 2]);
      expect(randLike(x).shape).toEqual([3, 2]);
      expect(randnLike(x).dtype).toBe('float32');
      const ri = randintLike(tensor([[0, 0]], { dtype: 'int32' }), 5, 6);
      expect(await ri.tolist()).toEqual([[5, 5]]);
      const g = new Generator(3);
      const p = randperm(10, { generator: g });
      expect(Array.from(await p.data()).sort((m, n) => m - n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('properties: size(dim) with negative dims, dim, numel, shape', () => {
      const t = zeros([2, 3, 4]);
      expect(t.size()).toEqual([2, 3, 4]);
      expect(t.size(0)).toBe(2);
      expect(t.size(-1)).toBe(4);
      expect(t.dim()).toBe(3);
      expect(t.numel()).toBe(24);
      expect(t.shape).toEqual([2, 3, 4]);
      expect(t.isContiguous()).toBe(true);
    });

    it('readback: data() returns a typed array of the dtype, item() a number, tolist() nested arrays', async () => {
      const t = tensor([
        [1, 2],
        [3, 4],
      ]);
      const d = await t.data();
      expect(d).toBeInstanceOf(Float32Array);
      expect(Array.from(d)).toEqual([1, 2, 3, 4]);
      expect(await t.sum().item()).toBe(10);
      expect(await tensor([[[5]]]).item()).toBe(5);
      expect(await t.tolist()).toEqual([
        [1, 2],
        [3, 4],
      ]);
      expect(await tensor([1, 0]).gt(0).data()).toBeInstanceOf(Uint8Array);
      if (backend.capabilities.syncReadback) expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4]);
    });
  });
}
