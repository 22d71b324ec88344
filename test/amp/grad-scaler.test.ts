/**
 * GradScaler against torch.cuda.amp.GradScaler's semantics (torch 1.13 grad_scaler.py and
 * the `_amp_update_scale_` kernel; torch has no CPU kernels for them, so the expected
 * sequences are written out from that source): scale growth and backoff with planted inf
 * gradients, skipped steps leave parameters and optimizer state alone, misuse errors, and
 * the state dict with torch's keys.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../runtime/tensor/index.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { GradScaler, GradScalerError } from '../../runtime/amp/index.ts';
import { PyFloat } from '../../runtime/io/pickle.ts';
import { Parameter } from '../../runtime/nn/index.ts';
import { Adam, SGD } from '../../runtime/optim/index.ts';
import { liveBuffers, tidy } from '../../runtime/memory.ts';
import { BACKENDS, values } from '../nn/helpers.ts';

/** Backward of `scale(sum(w · c))`, so w.grad = scale · c; c may hold Infinity or NaN. */
function backwardScaled(scaler: GradScaler, w: Tensor, c: number[]): void {
  scaler.scale(w.mul(tensor(c)).sum()).backward();
}

for (const backend of BACKENDS) {
  describe(`GradScaler on ${backend.name}`, () => {
    beforeEach(() => {
      setDefaultBackend(backend);
    });

    it("GradScaler: torch's defaults (scale 65536, growth 2, backoff 0.5, interval 2000)", () => {
      const s = new GradScaler();
      expect([
        s.getScale(),
        s.getGrowthFactor(),
        s.getBackoffFactor(),
        s.getGrowthInterval(),
        s.getGrowthTracker(),
      ]).toEqual([65536, 2, 0.5, 2000, 0]);
    });

    it('GradScaler: scale multiplies the loss; unscale_ divides the gradients back exactly', async () => {
      const w = new Parameter(tensor([1, 2, 3]));
      const opt = new SGD([w], { lr: 0.1 });
      const s = new GradScaler({ initScale: 1024 });
      const loss = w.mul(tensor([0.5, -0.25, 3])).sum();
      expect(await s.scale(loss).item()).toBe(1024 * (0.5 - 0.5 + 9));
      s.scale(loss).backward();
      expect(await values(w.grad!)).toEqual([512, -256, 3072]);
      s.unscale_(opt);
      expect(await values(w.grad!)).toEqual([0.5, -0.25, 3]);
      expect(await s.step(opt)).toBe(true);
      expect(await values(w)).toEqual([1 - 0.05, 2 + 0.025, 3 - 0.3].map(Math.fround));
      s.update();
    });

    it('GradScaler: growth and backoff sequence with planted inf/NaN gradients (growthInterval 3)', async () => {
      const w = new Parameter(tensor([1, -1]));
      const opt = new SGD([w], { lr: 0.5 });
      const s = new GradScaler({ initScale: 8, growthInterval: 3 });
      // Per step: the gradient factor c, then torch's (scale, _growth_tracker) after update().
      const plan: [number[], boolean, number, number][] = [
        [[1, 1], true, 8, 1],
        [[1, 1], true, 8, 2],
        [[1, 1], true, 16, 0], // third clean step: × growth, tracker resets
        [[Infinity, 1], false, 8, 0], // inf: skip, × backoff, tracker resets
        [[1, NaN], false, 4, 0], // NaN counts as inf
        [[1, 1], true, 4, 1],
        [[-Infinity, 1], false, 2, 0],
        [[1, 1], true, 2, 1],
        [[1, 1], true, 2, 2],
        [[1, 1], true, 4, 0],
      ];
      let expected = [1, -1];
      for (const [i, [c, steps, scale, tracker]] of plan.entries()) {
        backwardScaled(s, w, c);
        expect(await s.step(opt), `step ${i}`).toBe(steps);
        s.update();
        if (steps) expected = expected.map((v, j) => Math.fround(v - 0.5 * c[j]!));
        expect([s.getScale(), s.getGrowthTracker()], `step ${i}`).toEqual([scale, tracker]);
        expect(await values(w), `step ${i}`).toEqual(expected);
        opt.zeroGrad();
      }
    });

    it('GradScaler: a skipped step leaves the parameters and the optimizer state unchanged (Adam step count too)', async () => {
      const w = new Parameter(tensor([0.5, -0.5, 2]));
      const opt = new Adam([w], { lr: 0.1 });
      const s = new GradScaler();
      backwardScaled(s, w, [1, 2, 3]);
      expect(await s.step(opt)).toBe(true);
      s.update();
      opt.zeroGrad();
      const before = await values(w);
      const st = opt.state.get(w)!;
      const avgBefore = await values(st['exp_avg'] as Tensor);
      backwardScaled(s, w, [1, Infinity, 3]);
      expect(await s.step(opt)).toBe(false);
      s.update();
      expect(await values(w)).toEqual(before);
      expect(opt.state.get(w)!['step']).toBe(1);
      expect(await values(opt.state.get(w)!['exp_avg'] as Tensor)).toEqual(avgBefore);
      expect(s.getScale()).toBe(32768);
      opt.zeroGrad();
    });

    it('GradScaler: overflow of the scaled loss in float32 (scale × loss = inf) is caught too', async () => {
      const w = new Parameter(tensor([3e38, 1]));
      const opt = new SGD([w], { lr: 0.1 });
      const s = new GradScaler({ initScale: 2 ** 16 });
      s.scale(w.mul(w).sum()).backward(); // grad = 2·w·scale overflows float32
      expect(await s.step(opt)).toBe(false);
      s.update();
      expect(s.getScale()).toBe(2 ** 15);
    });

    it('GradScaler: misuse throws as torch does (unscale_ twice, step twice, update before step, step without gradients)', async () => {
      const w = new Parameter(tensor([1]));
      const opt = new SGD([w], { lr: 0.1 });
      const s = new GradScaler();
      expect(() => s.update()).toThrow(GradScalerError);
      await expect(s.step(opt)).rejects.toThrow(/no inf checks were recorded/);
      s.update(1024);
      backwardScaled(s, w, [1]);
      s.unscale_(opt);
      expect(() => s.unscale_(opt)).toThrow(/already been called/);
      await s.step(opt);
      await expect(s.step(opt)).rejects.toThrow(/already been called/);
      expect(() => s.unscale_(opt)).toThrow(/after step/);
      s.update();
      expect(s.getScale()).toBe(1024);
    });

    it("GradScaler: stateDict has torch's keys, floats as PyFloat; loadStateDict restores them", () => {
      const s = new GradScaler({ initScale: 256, growthInterval: 7 });
      const sd = s.stateDict();
      expect(Object.keys(sd)).toEqual([
        'scale',
        'growth_factor',
        'backoff_factor',
        'growth_interval',
        '_growth_tracker',
      ]);
      expect(sd.scale).toBeInstanceOf(PyFloat);
      expect((sd.scale as PyFloat).value).toBe(256);
      expect(sd.growth_interval).toBe(7);
      const t = new GradScaler();
      t.loadStateDict({
        scale: 512,
        growth_factor: new PyFloat(4),
        backoff_factor: 0.25,
        growth_interval: 9,
        _growth_tracker: 3,
      });
      expect([
        t.getScale(),
        t.getGrowthFactor(),
        t.getBackoffFactor(),
        t.getGrowthInterval(),
        t.getGrowthTracker(),
      ]).toEqual([512, 4, 0.25, 9, 3]);
      expect(() => t.loadStateDict({})).toThrow(/state dict is empty/);
      expect(new GradScaler({ enabled: false }).stateDict()).toEqual({});
    });

    it('GradScaler: disabled, it passes the loss through and always steps', async () => {
      const w = new Parameter(tensor([1]));
      const opt = new SGD([w], { lr: 1 });
      const s = new GradScaler({ enabled: false });
      const loss = w.sum();
      expect(s.scale(loss)).toBe(loss);
      loss.backward();
      expect(await s.step(opt)).toBe(true);
      expect(await values(w)).toEqual([0]);
      expect(s.getScale()).toBe(1);
    });

    it('GradScaler: a step leaves no buffers behind', async () => {
      const w = new Parameter(tensor([1, 2]));
      const opt = new SGD([w], { lr: 0.1 });
      const s = new GradScaler();
      backwardScaled(s, w, [1, 1]);
      await s.step(opt);
      s.update();
      opt.zeroGrad();
      const before = liveBuffers().liveBuffers;
      for (let i = 0; i < 3; i++) {
        await tidy(async () => {
          backwardScaled(s, w, [1, i === 1 ? Infinity : 1]);
          await s.step(opt);
          s.update();
        });
        opt.zeroGrad();
      }
      expect(liveBuffers().liveBuffers).toBe(before);
    });
  });
}
