/**
 * @module optim/optimizers.test — optimizer behaviour beyond the PyTorch fixtures: parameter
 * groups and defaults, zeroGrad, step(closure), state-dict round trips, buffer accounting,
 * and typed errors for bad hyperparameters, unknown options and mismatched state dicts.
 */
import { wasNoticed } from '../../runtime/notice.ts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { noGrad } from '../../runtime/autograd.ts';
import { Tensor, ones, tensor, zeros } from '../../runtime/tensor/index.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { ShapeError, ValueError } from '../../runtime/errors.ts';
import { liveBuffers, tidy } from '../../runtime/memory.ts';
import { Linear, Parameter } from '../../runtime/nn/index.ts';
import {
  Adam,
  AdamW,
  RMSprop,
  SGD,
  adamGroupUpdate,
  adamUpdate,
  adamUpdateComposite,
  toCamel,
  toSnake,
} from '../../runtime/optim/index.ts';
import { BACKENDS, expectNear, values } from '../nn/helpers.ts';

/** Sets p.grad to `g` (a fresh tensor). */
function setGrad(p: Tensor, g: number[]): void {
  p.grad = tensor(g);
}

for (const backend of BACKENDS) {
  describe(`optim on ${backend.name}`, () => {
    beforeEach(() => {
      setDefaultBackend(backend);
    });

    it('Optimizer: groups get the defaults filled in, per-group options override them', () => {
      const a = new Linear(2, 2);
      const b = new Linear(2, 1);
      const opt = new Adam([{ params: a.parameters() }, { params: b.parameters(), lr: 0.1, betas: [0.5, 0.6] }], {
        lr: 0.01,
        weightDecay: 0.1,
      });
      expect(opt.paramGroups).toHaveLength(2);
      expect(opt.paramGroups[0]).toMatchObject({
        lr: 0.01,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0.1,
        amsgrad: false,
        maximize: false,
      });
      expect(opt.paramGroups[1]).toMatchObject({ lr: 0.1, betas: [0.5, 0.6], weightDecay: 0.1 });
      expect(opt.paramGroups[0]!.params).toEqual(a.parameters());
      opt.addParamGroup({ params: [new Parameter(zeros([3]))], amsgrad: true });
      expect(opt.paramGroups[2]).toMatchObject({ lr: 0.01, amsgrad: true });
      expect(new AdamW(a.parameters()).paramGroups[0]!.weightDecay).toBe(1e-2);
    });

    it('Optimizer: invalid hyperparameters are ValueErrors in the error format', () => {
      const ps = (): Tensor[] => [new Parameter(zeros([2]))];
      expect(() => new Adam(ps(), { lr: -1 })).toThrow('Adam: invalid learning rate; expected lr >= 0, got -1');
      expect(() => new Adam(ps(), { betas: [1, 0.9] })).toThrow(ValueError);
      expect(() => new Adam(ps(), { betas: [0.9, -0.1] })).toThrow(
        'Adam: invalid beta parameter at index 1; expected 0 <= betas[1] < 1, got -0.1',
      );
      expect(() => new Adam(ps(), { eps: -1 })).toThrow(ValueError);
      expect(() => new AdamW(ps(), { weightDecay: -1 })).toThrow(
        'AdamW: invalid weight_decay value; expected weightDecay >= 0, got -1',
      );
      expect(() => new SGD(ps(), { lr: 0.1, momentum: -1 })).toThrow(ValueError);
      expect(() => new SGD(ps(), { lr: 0.1, nesterov: true })).toThrow(
        /SGD: Nesterov momentum requires a momentum and zero dampening/,
      );
      expect(() => new SGD(ps(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(ValueError);
      expect(() => new SGD(ps(), {} as never)).toThrow('SGD: lr is required');
      expect(() => new RMSprop(ps(), { alpha: -1 })).toThrow(
        'RMSprop: invalid alpha value; expected alpha >= 0, got -1',
      );
      expect(() => new RMSprop(ps(), { momentum: Number.NaN })).toThrow(ValueError);
      expect(() => new Adam(ps(), { lr: 0.1, weight_decay: 0.1 } as never)).toThrow(
        "Adam: unknown option 'weight_decay'",
      );
      expect(() => new Adam([{ params: ps(), nesterov: true }])).toThrow("Adam: unknown group option 'nesterov'");
      expect(() => new Adam([{ params: ps(), lr: -2 }])).toThrow(
        'Adam: invalid learning rate; expected lr >= 0, got -2',
      );
      expect(() => new Adam([])).toThrow('Adam: got an empty parameter list');
      const p = new Parameter(zeros([2]));
      expect(() => new Adam([{ params: [p] }, { params: [p] }])).toThrow(/more than one parameter group/);
      expect(() => new Adam([p, p])).toThrow(/same parameter twice/);
      expect(() => new Adam([p.mul(2)])).toThrow(/non-leaf/);
    });

    it('zeroGrad: drops gradients by default, fills zeros with setToNone: false', async () => {
      const p = new Parameter(ones([2]));
      const opt = new SGD([p], { lr: 0.1 });
      setGrad(p, [1, 2]);
      opt.zeroGrad({ setToNone: false });
      expect(await values(p.grad!)).toEqual([0, 0]);
      opt.zeroGrad();
      expect(p.grad).toBeNull();
    });

    it('step: skips parameters without gradients; a closure runs with gradients on and its loss is returned', async () => {
      const p = new Parameter(tensor([1, 2]));
      const q = new Parameter(tensor([5]));
      const opt = new SGD([p, q], { lr: 0.5 });
      const loss = opt.step(() => {
        opt.zeroGrad();
        const l = p.mul(p).sum();
        l.backward();
        return l;
      });
      expect(await values(loss!)).toEqual([5]);
      expect(await values(p)).toEqual([0, 0]);
      expect(await values(q)).toEqual([5]);
      expect(opt.state.has(q)).toBe(false);
    });

    it('step: a closure returning a Promise is a ValueError (the update would not wait for it)', () => {
      const p = new Parameter(tensor([1]));
      const opt = new SGD([p], { lr: 0.1 });
      expect(() => opt.step(async () => 1)).toThrow('SGD.step: the closure returned a Promise');
    });

    it('step: frees its temporaries; only the persistent state stays', () => {
      const p = new Parameter(tensor([1, -2, 3]));
      const opt = new Adam([p], { amsgrad: true });
      setGrad(p, [0.1, 0.2, -0.3]);
      const before = liveBuffers().liveBuffers;
      opt.step();
      expect(liveBuffers().liveBuffers - before).toBe(3); // exp_avg, exp_avg_sq, max_exp_avg_sq
      opt.step();
      expect(liveBuffers().liveBuffers - before).toBe(3);
      opt.resetState();
      expect(liveBuffers().liveBuffers - before).toBe(0);
    });

    it('stateDict/loadStateDict: a round trip resumes exactly where the original goes', async () => {
      const make = (): [Tensor, Adam] => {
        const p = new Parameter(tensor([0.5, -1, 2]));
        return [p, new Adam([p], { lr: 0.1, amsgrad: true })];
      };
      const [p1, o1] = make();
      for (const g of [
        [1, 2, 3],
        [-1, 0.5, 2],
      ]) {
        setGrad(p1, g);
        o1.step();
      }
      const sd = o1.stateDict();
      expect(sd.state[0]!['step']).toBe(2);
      expect(Object.keys(sd.state[0]!).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step']);
      expect(sd.param_groups[0]).toMatchObject({
        lr: 0.1,
        betas: [0.9, 0.999],
        weight_decay: 0,
        amsgrad: true,
        foreach: null,
        fused: false,
        params: [0],
      });
      const [p2, o2] = make();
      noGrad(() => p2.copy_(p1));
      o2.loadStateDict(JSON.parse(JSON.stringify({ ...sd, state: {} })) as never); // groups only
      o2.loadStateDict(sd);
      expect(o2.state.get(p2)!['exp_avg']).not.toBe(sd.state[0]!['exp_avg']); // copied
      setGrad(p1, [0.3, 0.3, -0.3]);
      o1.step();
      setGrad(p2, [0.3, 0.3, -0.3]);
      o2.step();
      expectNear(await values(p2), await values(p1), 0, 0);
    });

    it('loadStateDict: mismatched group counts, group sizes and state shapes are typed errors', () => {
      const a = new Parameter(zeros([2]));
      const b = new Parameter(zeros([3]));
      const opt = new SGD([{ params: [a] }, { params: [b] }], { lr: 0.1, momentum: 0.9 });
      setGrad(a, [1, 1]);
      setGrad(b, [1, 1, 1]);
      opt.step();
      const sd = opt.stateDict();
      expect(() => opt.loadStateDict({ state: {}, param_groups: [sd.param_groups[0]!] })).toThrow(
        'SGD.loadStateDict: loaded state dict has a different number of parameter groups; expected 2, got 1',
      );
      expect(() =>
        opt.loadStateDict({
          state: {},
          param_groups: [sd.param_groups[0]!, { ...sd.param_groups[1], params: [1, 2] }],
        }),
      ).toThrow(/doesn't match the size of optimizer's group 1; expected 1 parameters, got 2/);
      expect(() =>
        opt.loadStateDict({ state: { 0: { momentum_buffer: zeros([5]) } }, param_groups: sd.param_groups }),
      ).toThrow(ShapeError);
      expect(() => opt.loadStateDict({ state: { 7: {} }, param_groups: sd.param_groups })).toThrow(ValueError);
      expect(opt.state.get(a)!['momentum_buffer']).toBeInstanceOf(Tensor); // unchanged after the failures
    });

    it('adamUpdate: one Adam step by hand', async () => {
      const p = tensor([1, 2]);
      const m = zeros([2]);
      const v = zeros([2]);
      tidy(() =>
        adamUpdate(p, tensor([0.5, -1]), m, v, null, {
          lr: 0.1,
          beta1: 0.9,
          beta2: 0.999,
          eps: 1e-8,
          weightDecay: 0,
          amsgrad: false,
          maximize: false,
          decoupled: false,
          step: 1,
        }),
      );
      // The first bias-corrected step moves each element by lr·sign(g).
      expectNear(await values(p), [0.9, 2.1], 1e-6);
      expectNear(await values(m), [0.05, -0.1], 1e-6);
    });

    it('Adam: a step makes ONE fused adam backend call per parameter group', () => {
      const a = new Linear(3, 4);
      const b = new Linear(4, 2);
      const c = new Linear(2, 2);
      const opt = new Adam([{ params: [...a.parameters(), ...b.parameters()] }, { params: c.parameters(), lr: 0.1 }]);
      for (const p of [...a.parameters(), ...b.parameters(), ...c.parameters()]) p.grad = ones(p.shape);
      const counts: number[] = [];
      const run = backend.run;
      const spy = vi.spyOn(backend, 'run').mockImplementation(function (this: unknown, ...args) {
        if (args[0] === 'adam') counts.push((args[3] as { count: number }).count);
        return run.apply(backend, args);
      });
      try {
        opt.step();
        opt.step();
      } finally {
        spy.mockRestore();
      }
      expect(counts).toEqual([4, 2, 4, 2]);
    });

    it('adamGroupUpdate: parameters at different steps, and a non-contiguous one, give the per-parameter numbers', async () => {
      const o = {
        lr: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weightDecay: 0.1,
        amsgrad: true,
        maximize: false,
        decoupled: true,
      };
      const data = [
        [1, -2, 3, 0.5, 4, -1],
        [0.25, 3, -1],
        [2, 2, -3, 1],
      ];
      const grads = [
        [0.5, 1, -1, 2, 0.1, -0.3],
        [1, -1, 0.5],
        [0.2, -0.4, 0.6, -0.8],
      ];
      const make = (): { p: Tensor; g: Tensor; m: Tensor; v: Tensor; x: Tensor }[] =>
        data.map((d, i) => ({
          p: tensor(d),
          g: tensor(grads[i]!),
          m: tensor(d.map((x) => x / 10)),
          v: tensor(d.map((x) => (x * x) / 100)),
          x: tensor(d.map((x) => (x * x) / 50)),
        }));
      const fused = make();
      const single = make();
      // The first slot's param is a transposed (non-contiguous) view: it takes the composite path.
      const p2d = fused[0]!.p.reshape([3, 2]).t();
      const m2d = fused[0]!.m.reshape([3, 2]).t();
      const v2d = fused[0]!.v.reshape([3, 2]).t();
      const x2d = fused[0]!.x.reshape([3, 2]).t();
      const g2d = fused[0]!.g.reshape([3, 2]).t();
      expect(p2d.isContiguous()).toBe(false);
      noGrad(() =>
        tidy(() => {
          adamGroupUpdate(
            [
              { param: p2d, grad: g2d, expAvg: m2d, expAvgSq: v2d, maxExpAvgSq: x2d },
              ...fused.slice(1).map((s) => ({ param: s.p, grad: s.g, expAvg: s.m, expAvgSq: s.v, maxExpAvgSq: s.x })),
            ],
            { ...o, step: 3 },
          );
          for (const s of single) adamUpdateComposite(s.p, s.g, s.m, s.v, s.x, { ...o, step: 3 });
        }),
      );
      for (let i = 0; i < data.length; i++) {
        for (const k of ['p', 'm', 'v', 'x'] as const) {
          expectNear(await values(fused[i]![k]), await values(single[i]![k]), 1e-6, 1e-7, `slot ${i} ${k}`);
        }
      }
      // The unfused path says so, once.
      expect(wasNoticed('adam-composite')).toBe(true);
      // A parameter that missed step 1 (no grad) is at step 1 when the others are at 2.
      const late = new Parameter(tensor([1, 2, 3]));
      const early = new Parameter(tensor([-1, 0.5]));
      const opt = new Adam([late, early], { lr: 0.1 });
      early.grad = tensor([1, -1]);
      opt.step();
      late.grad = tensor([0.5, 0.5, -2]);
      early.grad = tensor([1, -1]);
      opt.step();
      // The first bias-corrected step moves each element by lr·sign(g).
      expectNear(await values(late), [0.9, 1.9, 3.1], 1e-6);
      expect(opt.state.get(late)!['step']).toBe(1);
      expect(opt.state.get(early)!['step']).toBe(2);
    });

    it('toSnake/toCamel: translate option names', () => {
      expect(toSnake('weightDecay')).toBe('weight_decay');
      expect(toCamel('max_exp_avg_sq')).toBe('maxExpAvgSq');
    });
  });
}
