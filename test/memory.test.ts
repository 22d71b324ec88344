/**
 * Memory ownership on every available backend: `tidy` scopes, `keep`, and a long
 * training loop whose live buffers and reserved bytes stay flat.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../runtime/backend.ts';
import { setDefaultBackend } from '../runtime/default-backend.ts';
import { keep, linear, manualSeed, noGrad, ones, randn, tensor, tidy, zeros, type Tensor } from '../runtime/index.ts';
import { scopeDepth } from '../runtime/memory.ts';
import { availableBackends } from './helpers/backends.ts';

const backends = await availableBackends();
afterAll(() => {
  for (const b of backends) b.dispose();
});

function live(backend: Backend): number {
  return backend.memory().liveBuffers;
}

/** Steps of the MLP loop per backend: the slow bounds-checked reference runs fewer. */
function trainingSteps(backend: Backend): number {
  return backend.name === 'reference' ? 1_000 : 10_000;
}

for (const backend of backends) {
  describe(`memory on ${backend.name}`, () => {
    beforeEach(() => setDefaultBackend(backend));

    it('tidy: frees intermediates and keeps the returned tensor', async () => {
      const start = live(backend);
      const x = tensor([1, 2, 3]);
      let mid: Tensor | null = null;
      const y = tidy(() => {
        mid = x.mul(2);
        return mid.add(1).exp().log();
      });
      expect(mid!.isDisposed).toBe(true);
      expect(y.isDisposed).toBe(false);
      expect(x.isDisposed, 'tensors made before the scope are untouched').toBe(false);
      expect(await y.tolist()).toEqual([3, 5, 7]);
      expect(live(backend)).toBe(start + 2);
      x.dispose();
      y.dispose();
      expect(live(backend)).toBe(start);
      expect(scopeDepth()).toBe(0);
    });

    it('tidy: keeps tensors returned inside arrays and plain objects', () => {
      const start = live(backend);
      const r = tidy(() => {
        const a = ones([2]).mul(3);
        return { a, list: [a.add(1), zeros([1])] };
      });
      expect(r.a.isDisposed).toBe(false);
      expect(r.list.every((t) => !t.isDisposed)).toBe(true);
      expect(live(backend)).toBe(start + 3);
      for (const t of [r.a, ...r.list]) t.dispose();
      expect(live(backend)).toBe(start);
    });

    it('tidy: nested scopes hand the inner result to the outer scope, which frees it unless returned', () => {
      const start = live(backend);
      let inner: Tensor | null = null;
      const outer = tidy(() => {
        inner = tidy(() => ones([3]).mul(2).add(1));
        expect(inner.isDisposed).toBe(false);
        const o = inner.sum();
        return o;
      });
      expect(inner!.isDisposed, 'the inner result was not returned by the outer scope').toBe(true);
      expect(outer.isDisposed).toBe(false);
      expect(live(backend)).toBe(start + 1);
      outer.dispose();
      expect(live(backend)).toBe(start);
    });

    it('keep: a kept tensor survives its scope and every enclosing one', () => {
      const start = live(backend);
      let kept: Tensor | null = null;
      tidy(() => {
        tidy(() => {
          kept = keep(ones([2]).mul(5));
          ones([2]).mul(6);
        });
      });
      expect(kept!.isDisposed).toBe(false);
      expect(live(backend)).toBe(start + 1);
      kept!.dispose();
      expect(live(backend)).toBe(start);
    });

    it('tidy: disposes what it made when fn throws, and closes the scope', () => {
      const start = live(backend);
      expect(() =>
        tidy(() => {
          ones([4]).mul(2);
          throw new Error('step failed');
        }),
      ).toThrow('step failed');
      expect(live(backend)).toBe(start);
      expect(scopeDepth()).toBe(0);
    });

    it('tidy: an async fn is awaited before the scope closes', async () => {
      const start = live(backend);
      const r = await tidy(async () => {
        const a = ones([2]).mul(2);
        const v = await a.sum().item();
        return a.add(v);
      });
      expect(await r.tolist()).toEqual([6, 6]);
      expect(live(backend)).toBe(start + 1);
      r.dispose();
      expect(live(backend)).toBe(start);
    });

    it('tidy: a returned view keeps its base buffer alive until the view is disposed', async () => {
      const start = live(backend);
      const v = tidy(() => ones([2, 3]).mul(4).t().narrow(0, 1, 2));
      expect(await v.tolist()).toEqual([
        [4, 4],
        [4, 4],
      ]);
      expect(live(backend)).toBe(start + 1);
      v.dispose();
      expect(live(backend)).toBe(start);
    });

    it('backward: in a tidy scope the live-buffer count returns to its start (plus the .grad buffers)', () => {
      const w = randn([4, 3], { requiresGrad: true });
      const x = randn([2, 3]);
      const start = live(backend);
      tidy(() => {
        linear(x, w).relu().sum().backward();
      });
      expect(live(backend)).toBe(start + 1);
      w.grad!.dispose();
      w.grad = null;
      expect(live(backend)).toBe(start);
      w.dispose();
      x.dispose();
    });

    it(`training loop: ${trainingSteps(backend).toLocaleString('en-US')} MLP steps (16→32→ReLU→8, batch 4, MSE, SGD) keep live buffers and reserved bytes flat`, async () => {
      manualSeed(1234);
      const steps = trainingSteps(backend);
      const x = randn([4, 16]);
      const y = randn([4, 8]);
      const w1 = randn([32, 16]).mul(0.25).requiresGrad_();
      const b1 = zeros([32], { requiresGrad: true });
      const w2 = randn([8, 32]).mul(0.18).requiresGrad_();
      const b2 = zeros([8], { requiresGrad: true });
      const params = [w1, b1, w2, b2];
      const lr = 0.05;
      const step = (): Tensor =>
        tidy(() => {
          const out = linear(linear(x, w1, b1).relu(), w2, b2);
          const loss = out.sub(y).pow(2).mean();
          loss.backward();
          noGrad(() => {
            for (const p of params) p.sub_(p.grad!.mul(lr));
          });
          for (const p of params) {
            p.grad!.dispose();
            p.grad = null;
          }
          return loss;
        });
      const start = live(backend);
      let firstLoss = NaN;
      let at100: { liveBuffers: number; reservedBytes: number } | null = null;
      for (let i = 1; i <= steps; i++) {
        const loss = step();
        if (i === 1) firstLoss = await loss.item();
        loss.dispose();
        if (i === 100) at100 = { ...backend.memory() };
      }
      const atEnd = backend.memory();
      expect(at100).not.toBeNull();
      expect(atEnd.liveBuffers, 'live buffers after the last step equal those after step 100').toBe(at100!.liveBuffers);
      expect(atEnd.reservedBytes, 'reserved bytes after the last step equal those after step 100').toBe(
        at100!.reservedBytes,
      );
      expect(atEnd.liveBuffers, 'nothing outlives a step').toBe(start);
      const finalLoss = await tidy(() =>
        linear(linear(x, w1, b1).relu(), w2, b2)
          .sub(y)
          .pow(2)
          .mean(),
      ).item();
      expect(finalLoss, 'the loop really trains').toBeLessThan(firstLoss * 0.5);
      for (const t of [x, y, ...params]) t.dispose();
    }, 60_000);
  });
}
