/**
 * round_f16 / round_bf16: every backend against torch 1.13's `x.half().float()` and
 * `x.bfloat16().float()` (fixture from test/fixtures/make-amp-fixtures.py), bit for bit,
 * and their straight-through gradient rule.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../runtime/backend.ts';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';
import { linear, matmul, roundBF16, roundF16, tensor, type Tensor } from '../../runtime/index.ts';
import { numberToBFloat16, numberToHalf, roundToBFloat16, roundToHalf } from '../../runtime/float16.ts';
import { availableBackends } from '../helpers/backends.ts';
import { analyticGrads, gradcheck, input } from '../helpers/gradcheck.ts';

interface Fixture {
  readonly x: string[];
  readonly f16: string[];
  readonly bf16: string[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/amp-round.json', import.meta.url), 'utf8')) as Fixture;

function fromHex(h: readonly string[]): Float32Array {
  return new Float32Array(new Uint32Array(h.map((s) => Number.parseInt(s, 16))).buffer);
}

/** Bit patterns, with every NaN shown as 'NaN' (torch and wasm may differ in NaN payloads only). */
function bits(a: ArrayLike<number>): string[] {
  const f = Float32Array.from(a);
  const u = new Uint32Array(f.buffer);
  return Array.from(u, (v, i) => (Number.isNaN(f[i]!) ? 'NaN' : v.toString(16).padStart(8, '0')));
}

const xs = fromHex(fixture.x);
const backends = await availableBackends();
afterAll(() => {
  for (const b of backends) b.dispose();
});

describe('round_f16 / round_bf16 against torch', () => {
  it('fixture: holds the special values (overflow, ties, subnormal halves, NaN)', () => {
    expect(xs.length).toBeGreaterThan(400);
    expect(bits(fromHex(fixture.f16)).filter((b) => b === '7f800000').length).toBeGreaterThan(2);
  });

  for (const backend of backends) {
    it(`roundF16 on ${backend.name}: equals torch's x.half().float() bit for bit`, async () => {
      const y = await roundF16(tensor(xs, { backend })).data();
      expect(bits(y)).toEqual(bits(fromHex(fixture.f16)));
    });
    it(`roundBF16 on ${backend.name}: equals torch's x.bfloat16().float() bit for bit`, async () => {
      const y = await roundBF16(tensor(xs, { backend })).data();
      expect(bits(y)).toEqual(bits(fromHex(fixture.bf16)));
    });
    it(`roundF16 on ${backend.name}: strided input and odd length (SIMD tail)`, async () => {
      const base = tensor(Array.from(xs.slice(0, 2 * 37)), { backend }).reshape([37, 2]);
      const view = base.select(1, 1);
      const y = await roundF16(view).data();
      const expected = Array.from({ length: 37 }, (_, i) => fromHex(fixture.f16)[2 * i + 1]!);
      expect(bits(y)).toEqual(bits(expected));
    });
  }

  it("float16 codecs: numberToHalf and numberToBFloat16 give torch's bits for named values", () => {
    expect(numberToHalf(65504)).toBe(0x7bff);
    expect(numberToHalf(65520)).toBe(0x7c00);
    expect(numberToHalf(-(2 ** -24))).toBe(0x8001);
    expect(numberToHalf(2 ** -25)).toBe(0x0000); // a tie between 0 and the smallest subnormal: even is 0
    expect(numberToHalf(3 * 2 ** -25)).toBe(0x0002); // a tie between 1 and 2 subnormal steps: even is 2
    expect(numberToHalf(NaN)).toBe(0x7e00);
    expect(numberToBFloat16(1 + 2 ** -8)).toBe(0x3f80);
    expect(numberToBFloat16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(numberToBFloat16(-Infinity)).toBe(0xff80);
    expect(roundToHalf(0.1)).toBe(0.0999755859375);
    expect(roundToBFloat16(0.1)).toBe(0.10009765625);
  });
});

describe('round_f16 / round_bf16 gradient (straight-through)', () => {
  const reference = createReferenceBackend();
  afterAll(() => reference.dispose());

  it('roundF16: the gradient is the incoming gradient unchanged (the cast back is the identity in float)', async () => {
    const [g] = await analyticGrads(reference, (a) => roundF16(a!), [input([7], 501)]);
    const [h] = await analyticGrads(reference, (a) => a!.mul(1), [input([7], 501)]);
    expect(g).toEqual(h);
  });

  it('roundBF16: the gradient of linear on rounded inputs equals the finite-difference gradient of linear itself', async () => {
    // At inputs that already hold bfloat16 values, round(x) = x, so the straight-through rule
    // makes linear(round(x), round(w)) differentiate as linear(x, w); gradcheck checks the latter.
    const onGrid = (shape: number[], seed: number) => {
      const i = input(shape, seed);
      return { ...i, data: i.data.map(roundToBFloat16) };
    };
    const inputs = [onGrid([3, 4], 502), onGrid([5, 4], 503)];
    const rounded = await analyticGrads(reference, (x, w) => linear(roundBF16(x!), roundBF16(w!)), inputs);
    const plain = await analyticGrads(reference, (x, w) => linear(x!, w!), inputs);
    expect(rounded).toEqual(plain);
    await gradcheck(reference, (x, w) => linear(x!, w!), inputs);
  });

  it('roundF16: matmul through rounded operands passes the gradient straight through to both', async () => {
    const onGrid = (shape: number[], seed: number) => {
      const i = input(shape, seed);
      return { ...i, data: i.data.map(roundToHalf) };
    };
    const inputs = [onGrid([2, 3], 504), onGrid([3, 2], 505)];
    const rounded = await analyticGrads(reference, (a, b) => matmul(roundF16(a!), roundF16(b!)), inputs);
    const plain = await analyticGrads(reference, (a, b) => matmul(a!, b!), inputs);
    expect(rounded).toEqual(plain);
    await gradcheck(reference, (a, b) => matmul(a!, b!), inputs);
  });

  it('roundF16: refuses int32 input with a DTypeError', () => {
    const t: Tensor = tensor([1, 2], { dtype: 'int32', backend: reference as Backend });
    expect(() => roundF16(t)).toThrow(/round_f16/);
  });
});
