/**
 * @module unfilled-output.test — op outputs are allocated without a zero fill
 * (`alloc(…, { zero: false })`), so every primitive must write its whole fresh output.
 * A wrapper of the wasm backend fills such buffers with garbage (NaN payloads, 0x5a5a5a5a,
 * 7 for bool); a program that touches every primitive through the tensor layer, forward and
 * backward, must then give bitwise the same values as on the plain wasm backend.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { AllocOptions, Backend, BufferHandle } from '../../runtime/backend.ts';
import type { DType } from '../../runtime/dtype.ts';
import { allocArray } from '../../runtime/dtype.ts';
import {
  type Tensor,
  avgPool2d,
  cat,
  conv2d,
  fold,
  gather,
  indexSelect,
  maxPool2d,
  roundBF16,
  roundF16,
  scatterAdd,
  where,
} from '../../runtime/tensor/index.ts';
import { tensor, randn, rand, randint, arange } from '../../runtime/index.ts';
import { Generator } from '../../runtime/random.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import * as F from '../../runtime/nn/functional.ts';
import { tidy } from '../../runtime/memory.ts';
import { availableBackends, wrapBackend } from '../helpers/backends.ts';

const GARBAGE: Readonly<Record<DType, number>> = { float32: NaN, float64: NaN, int32: 0x5a5a5a5a, bool: 7 };

/** The same backend, except that unfilled buffers start as garbage. */
function poisoned(inner: Backend): Backend & { readonly poisonedAllocs: () => number } {
  let count = 0;
  return wrapBackend(inner, {
    name: `${inner.name}-poisoned`,
    alloc(dtype: DType, length: number, options?: AllocOptions): BufferHandle {
      const b = inner.alloc(dtype, length, options);
      if (options?.zero === false && length > 0) {
        count++;
        const junk = allocArray(dtype, length);
        junk.fill(GARBAGE[dtype]);
        inner.write(b, junk);
      }
      return b;
    },
    poisonedAllocs: () => count,
  });
}

/** Touches every primitive through the tensor layer; returns every result it made. */
async function program(backend: Backend): Promise<number[][]> {
  setDefaultBackend(backend);
  const g = new Generator(7);
  const o = { backend, generator: g };
  return tidy(async () => {
    const outs: Tensor[] = [];
    // an MLP step's ops: linear (matmul + bias), relu, mse, their gradients
    const x = randn([5, 7], o);
    const w1 = randn([6, 7], { ...o, requiresGrad: true });
    const b1 = randn([6], { ...o, requiresGrad: true });
    const w2 = randn([7, 6], { ...o, requiresGrad: true });
    const y = F.linear(F.relu(F.linear(x, w1, b1)), w2);
    const loss = F.mseLoss(y, x);
    loss.backward();
    outs.push(y, loss, w1.grad!, b1.grad!, w2.grad!);
    // conv, pools and fold (im2col / col2im), with gradients
    const img = randn([2, 3, 6, 5], { ...o, requiresGrad: true });
    const k = randn([4, 3, 3, 2], { ...o, requiresGrad: true });
    const c = conv2d(img, k, null, { padding: 1, stride: [2, 1] });
    const p = maxPool2d(c, 2, { ceilMode: true });
    const a = avgPool2d(c, [2, 2]);
    p.sum().add(a.sum()).backward();
    outs.push(c, p, a, img.grad!, k.grad!, fold(randn([1, 4 * 2 * 2, 9], o), [4, 4], 2, { stride: 1 }));
    // every unary op, activation backward, binary ops, comparisons, where, cast, clamp
    const u = randn([3, 5], { ...o, requiresGrad: true });
    const acts = [
      F.sigmoid(u),
      F.tanh(u),
      F.gelu(u),
      F.gelu(u, { approximate: 'tanh' }),
      F.silu(u),
      F.softplus(u),
      F.elu(u),
      F.leakyRelu(u),
    ];
    acts.reduce((s, t) => s.add(t.sum()), u.sum()).backward();
    const r = rand([3, 5], o).add(0.5);
    outs.push(
      ...acts,
      u.grad!,
      u.neg(),
      u.abs(),
      u.sign(),
      u.exp(),
      r.log(),
      r.sqrt(),
      u.clamp(-0.5, 0.5),
      roundF16(u),
      roundBF16(u),
    );
    outs.push(u.add(r), u.sub(r), u.mul(r), u.div(r), r.pow(u), u.maximum(r), u.minimum(r));
    const cmp = u.gt(r);
    outs.push(cmp, u.eq(r), u.ne(r), u.lt(r), u.le(r), u.ge(r), cmp.logicalNot(), where(cmp, u, r));
    outs.push(u.to('int32'), cmp.to('float32'), u.transpose(0, 1).contiguous());
    // reductions, including an empty axis and an empty matmul inner dimension
    outs.push(u.sum(1), u.max(), u.max(0).values, u.min(1).indices, u.argmax(1), u.argmin(0), u.softmax(1));
    outs.push(randn([3, 0], o).sum(1), randn([2, 0], o).matmul(randn([0, 4], o)), u.to('int32').sum(0));
    // indexing
    const idx = randint(0, 3, [2, 5], o);
    outs.push(
      gather(u, 0, idx),
      scatterAdd(u, 0, idx, randn([2, 5], o)),
      indexSelect(u, 1, tensor([4, 0, 2], { dtype: 'int32', backend })),
    );
    outs.push(cat([u, r], 0), F.crossEntropy(u, tensor([1, 0, 4], { dtype: 'int32', backend })), arange(5).mul(2));
    const values: number[][] = [];
    for (const t of outs) values.push(Array.from(await t.data(), Number));
    return values;
  });
}

describe('unfilled outputs', () => {
  const made: Backend[] = [];
  afterAll(() => {
    for (const b of made) b.dispose();
  });

  it('unfilled outputs: every primitive writes its whole fresh output (wasm with garbage-filled outputs equals wasm)', async () => {
    const backends = await availableBackends();
    made.push(...backends);
    const wasm = backends.find((b) => b.name === 'wasm');
    expect(wasm, 'the wasm backend is built').toBeDefined();
    const bad = poisoned(wasm!);
    const expected = await program(wasm!);
    const got = await program(bad);
    expect(bad.poisonedAllocs(), 'op outputs went through the unfilled path').toBeGreaterThan(100);
    expect(got.length).toBe(expected.length);
    for (let i = 0; i < expected.length; i++) {
      expect(
        got[i]!.map((v) => (Number.isNaN(v) ? 'NaN' : v)),
        `result ${i}`,
      ).toEqual(expected[i]!.map((v) => (Number.isNaN(v) ? 'NaN' : v)));
    }
  });
});
