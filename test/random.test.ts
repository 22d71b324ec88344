/**
 * The seeded generator: Philox4x32-10 known answers, seeding, state round trips, the
 * distributions' moments, and identical draws on every backend (draws happen in TS).
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  Generator,
  ValueError,
  defaultGenerator,
  manualSeed,
  rand,
  randint,
  randn,
  randperm,
} from '../runtime/index.ts';
import { philox4x32, setBulkPhilox } from '../runtime/random.ts';
import type { WasmBackend } from '../runtime/backends/wasm/backend.ts';
import { availableBackends } from './helpers/backends.ts';

const backends = await availableBackends();
afterAll(() => {
  for (const b of backends) b.dispose();
});
const backend = backends[0]!;

function hex(words: Uint32Array): string[] {
  return Array.from(words, (w) => w.toString(16).padStart(8, '0'));
}

function philox(counter: [number, number, number, number], key: [number, number]): string[] {
  const out = new Uint32Array(4);
  philox4x32(counter, key, out);
  return hex(out);
}

function moments(v: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  const mean = s / v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(q / (v.length - 1)) };
}

describe('random', () => {
  it('philox4x32: matches the Random123 known-answer vectors (philox4x32_10 in kat_vectors)', () => {
    expect(philox([0, 0, 0, 0], [0, 0])).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    expect(philox([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])).toEqual([
      '408f276d',
      '41c83b0e',
      'a20bc7c6',
      '6d5451fd',
    ]);
    expect(philox([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])).toEqual([
      'd16cfe09',
      '94fdcceb',
      '5001e420',
      '24126ea1',
    ]);
  });

  it('Generator: the stream is philox blocks at counters 0, 1, 2, ... keyed by the seed', () => {
    const g = new Generator(0x2a);
    const words = g.uint32(10);
    const expected = [
      ...philox([0, 0, 0, 0], [0x2a, 0]),
      ...philox([1, 0, 0, 0], [0x2a, 0]),
      ...philox([2, 0, 0, 0], [0x2a, 0]).slice(0, 2),
    ];
    expect(hex(words)).toEqual(expected);
    expect(g.getState(), 'a partial block still uses up the block').toEqual({ seed: 0x2a, offset: 3 });
    const big = new Generator(2 ** 40 + 5);
    expect(hex(big.uint32(4))).toEqual(philox([0, 0, 0, 0], [5, 2 ** 8]));
    const far = new Generator(0xdeadbeef12);
    far.setState({ seed: 0xdeadbeef12, offset: 2 ** 32 + 7 });
    expect(hex(far.uint32(7)), 'the counter carries into its second word').toEqual([
      ...philox([7, 1, 0, 0], [0xadbeef12, 0xde]),
      ...philox([8, 1, 0, 0], [0xadbeef12, 0xde]).slice(0, 3),
    ]);
  });

  it('Generator: the wasm bulk source gives the same words as the TypeScript rounds', async () => {
    const wasm = (await availableBackends()).find((b) => b.name === 'wasm') as WasmBackend | undefined;
    expect(wasm, 'the wasm backend is built').toBeDefined();
    const draw = (seed: number, offset: number, n: number): Uint32Array => {
      const g = new Generator(seed);
      g.setState({ seed, offset });
      return g.uint32(n);
    };
    const cases: [number, number, number][] = [
      [0, 0, 256],
      [7, 3, 1027],
      [2 ** 40 + 5, 2 ** 32 - 100, 4099],
      [0x2a, 0, 100_003],
    ];
    const plain = cases.map(([seed, offset, n]) => draw(seed, offset, n));
    let calls = 0;
    setBulkPhilox((out, blocks, offset, k0, k1) => {
      calls++;
      wasm!.philoxFill(out, blocks, offset, k0, k1);
    });
    try {
      const bulk = cases.map(([seed, offset, n]) => draw(seed, offset, n));
      expect(calls, 'every case is large enough for the bulk path').toBe(cases.length);
      for (let i = 0; i < cases.length; i++) expect(Array.from(bulk[i]!)).toEqual(Array.from(plain[i]!));
    } finally {
      setBulkPhilox(undefined);
    }
  });

  it('manualSeed: the same seed repeats the same draws; another seed gives others', async () => {
    manualSeed(42);
    const a = await rand([50], { backend }).data();
    const an = await randn([7], { backend }).data();
    manualSeed(42);
    const b = await rand(50, { backend }).data();
    const bn = await randn(7, { backend }).data();
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(bn)).toEqual(Array.from(an));
    manualSeed(43);
    const c = await rand([50], { backend }).data();
    expect(Array.from(c)).not.toEqual(Array.from(a));
    expect(defaultGenerator.initialSeed()).toBe(43);
    expect(() => manualSeed(-1)).toThrow(ValueError);
    expect(() => manualSeed(1.5)).toThrow('manualSeed: invalid seed; expected an integer in [0, 2^53), got 1.5');
  });

  it('getState/setState: restoring a state resumes the stream exactly', async () => {
    manualSeed(7);
    await rand([13], { backend }).data();
    const state = defaultGenerator.getState();
    const next = Array.from(await randn([9], { backend }).data());
    const after = Array.from(await rand([5], { backend }).data());
    defaultGenerator.setState(state);
    expect(Array.from(await randn([9], { backend }).data())).toEqual(next);
    expect(Array.from(await rand([5], { backend }).data())).toEqual(after);
    const g = new Generator(99);
    g.uint32(5);
    const h = new Generator();
    h.setState(g.getState());
    expect(Array.from(h.uniform(6))).toEqual(Array.from(g.uniform(6)));
    expect(() => h.setState({ seed: 1, offset: -1 })).toThrow(ValueError);
  });

  it('a Generator passed as an option draws without advancing the default one', async () => {
    manualSeed(5);
    const expected = Array.from(await rand([4], { backend }).data());
    manualSeed(5);
    await rand([100], { backend, generator: new Generator(1) }).data();
    expect(Array.from(await rand([4], { backend }).data())).toEqual(expected);
  });

  it('rand: 100k values lie in [0, 1) with mean ≈ 0.5 and std ≈ 1/√12', async () => {
    manualSeed(1);
    const v = await rand([100_000], { backend }).data();
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of v) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    const m = moments(v);
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(m.std - 1 / Math.sqrt(12))).toBeLessThan(0.01);
  });

  it('randn: 100k values have mean ≈ 0 and std ≈ 1, and odd counts work', async () => {
    manualSeed(2);
    const v = await randn([100_001], { backend }).data();
    expect(Array.from(v).filter((x) => !Number.isFinite(x)).length).toBe(0);
    const m = moments(v);
    expect(Math.abs(m.mean)).toBeLessThan(0.02);
    expect(Math.abs(m.std - 1)).toBeLessThan(0.02);
    let within1 = 0;
    for (const x of v) if (Math.abs(x) < 1) within1++;
    expect(Math.abs(within1 / v.length - 0.6827)).toBeLessThan(0.01);
  });

  it('randint: values are integers in [low, high), each about equally often', async () => {
    manualSeed(3);
    const v = await randint(-5, 5, [50_000], { backend }).data();
    const counts = new Map<number, number>();
    for (const x of v) counts.set(x, (counts.get(x) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-5, -4, -3, -2, -1, 0, 1, 2, 3, 4]);
    expect(counts.size).toBe(10);
    for (const c of counts.values()) expect(Math.abs(c / 50_000 - 0.1)).toBeLessThan(0.01);
  });

  it('randperm: a permutation of 0..n-1, reproducible under a seed', async () => {
    manualSeed(4);
    const p = Array.from(await randperm(50, { backend }).data());
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    manualSeed(4);
    expect(Array.from(await randperm(50, { backend }).data())).toEqual(p);
  });

  it('random draws: the same seed gives the same values on every backend', async () => {
    const results: number[][] = [];
    for (const b of backends) {
      manualSeed(11);
      const r = await rand([17], { backend: b }).data();
      const n = await randn([17], { backend: b }).data();
      const i = await randint(0, 100, [17], { backend: b }).data();
      results.push([...r, ...n, ...i]);
    }
    for (const r of results.slice(1)) expect(r).toEqual(results[0]);
    expect(results.length).toBe(backends.length);
  });
});
