/**
 * @module optim/optimizers.test — optimizer behaviour beyond the PyTorch fixtures: parameter
 * groups and defaults, zeroGrad, step(closure), state-dict round trips, buffer accounting,
 * and typed errors for bad hyperparameters, unknown options and mismatched state dicts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { noGrad } from '../../runtime/autograd.ts';
import { ones, tensor, zeros } from '../../runtime/creation.ts';
import { setDefaultBackend } from '../../runtime/engine.ts';
import { ShapeError, ValueError } from '../../runtime/errors.ts';
import { tidy } from '../../runtime/memory.ts';
import { liveBuffers } from '../../runtime/stats.ts';
import { Tensor } from '../../runtime/tensor.ts';
import { Linear, Parameter } from '../../runtime/nn/index.ts';
import { Adam, AdamW, RMSprop, SGD, adamUpdate, toCamel, toSnake } from '../../runtime/optim/index.ts';
import { BACKENDS, expectNear, values } from '../nn/helpers.ts';

/** Sets p.grad to `g` (a fresh tensor). */
function setGrad(p: Tensor, g: number[]): void {
  p.grad = tensor(g);
}

for (const backend of BACKENDS) {
  describe(`optim on ${backend.name}`, () => {
    beforeEach(() => { setDefaultBackend(backend); });

    it('Optimizer: groups get the defaults filled in, per-group options override them', () => {
      const a = new Linear(2, 2);
      const b = new Linear(2, 1);
      const opt = new Adam([{ params: a.parameters() }, { params: b.parameters(), lr: 0.1, betas: [0.5, 0.6] }], { lr: 0.01, weightDecay: 0.1 });
      expect(opt.paramGroups).toHaveLength(2);
      expect(opt.paramGroups[0]).toMatchObject({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, amsgrad: false, maximize: false });
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
      expect(() => new Adam(ps(), { betas: [0.9, -0.1] })).toThrow('Adam: invalid beta parameter at index 1; expected 0 <= betas[1] < 1, got -0.1');
      expect(() => new Adam(ps(), { eps: -1 })).toThrow(ValueError);
      expect(() => new AdamW(ps(), { weightDecay: -1 })).toThrow('AdamW: invalid weight_decay value; expected weightDecay >= 0, got -1');
      expect(() => new SGD(ps(), { lr: 0.1, momentum: -1 })).toThrow(ValueError);
      expect(() => new SGD(ps(), { lr: 0.1, nesterov: true })).toThrow(/SGD: Nesterov momentum requires a momentum and zero dampening/);
      expect(() => new SGD(ps(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(ValueError);
      expect(() => new SGD(ps(), {} as never)).toThrow('SGD: lr is required');
      expect(() => new RMSprop(ps(), { alpha: -1 })).toThrow('RMSprop: invalid alpha value; expected alpha >= 0, got -1');
      expect(() => new RMSprop(ps(), { momentum: Number.NaN })).toThrow(ValueError);
      expect(() => new Adam(ps(), { lr: 0.1, weight_decay: 0.1 } as never)).toThrow("Adam: unknown option 'weight_decay'");
      expect(() => new Adam([{ params: ps(), nesterov: true }])).toThrow("Adam: unknown group option 'nesterov'");
      expect(() => new Adam([{ params: ps(), lr: -2 }])).toThrow('Adam: invalid learning rate; expected lr >= 0, got -2');
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
      for (const g of [[1, 2, 3], [-1, 0.5, 2]]) { setGrad(p1, g); o1.step(); }
      const sd = o1.stateDict();
      expect(sd.state[0]!['step']).toBe(2);
      expect(Object.keys(sd.state[0]!).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step']);
      expect(sd.param_groups[0]).toMatchObject({ lr: 0.1, betas: [0.9, 0.999], weight_decay: 0, amsgrad: true, foreach: null, fused: false, params: [0] });
      const [p2, o2] = make();
      noGrad(() => p2.copy_(p1));
      o2.loadStateDict(JSON.parse(JSON.stringify({ ...sd, state: {} })) as never); // groups only
      o2.loadStateDict(sd);
      expect(o2.state.get(p2)!['exp_avg']).not.toBe(sd.state[0]!['exp_avg']); // copied
      setGrad(p1, [0.3, 0.3, -0.3]); o1.step();
      setGrad(p2, [0.3, 0.3, -0.3]); o2.step();
      expectNear(await values(p2), await values(p1), 0, 0);
    });

    it('loadStateDict: mismatched group counts, group sizes and state shapes are typed errors', () => {
      const a = new Parameter(zeros([2]));
      const b = new Parameter(zeros([3]));
      const opt = new SGD([{ params: [a] }, { params: [b] }], { lr: 0.1, momentum: 0.9 });
      setGrad(a, [1, 1]); setGrad(b, [1, 1, 1]); opt.step();
      const sd = opt.stateDict();
      expect(() => opt.loadStateDict({ state: {}, param_groups: [sd.param_groups[0]!] })).toThrow(
        'SGD.loadStateDict: loaded state dict has a different number of parameter groups; expected 2, got 1');
      expect(() => opt.loadStateDict({ state: {}, param_groups: [sd.param_groups[0]!, { ...sd.param_groups[1], params: [1, 2] }] })).toThrow(
        /doesn't match the size of optimizer's group 1; expected 1 parameters, got 2/);
      expect(() => opt.loadStateDict({ state: { 0: { momentum_buffer: zeros([5]) } }, param_groups: sd.param_groups })).toThrow(ShapeError);
      expect(() => opt.loadStateDict({ state: { 7: {} }, param_groups: sd.param_groups })).toThrow(ValueError);
      expect(opt.state.get(a)!['momentum_buffer']).toBeInstanceOf(Tensor); // unchanged after the failures
    });

    it('adamUpdate: one Adam step by hand', async () => {
      const p = tensor([1, 2]);
      const m = zeros([2]);
      const v = zeros([2]);
      tidy(() => adamUpdate(p, tensor([0.5, -1]), m, v, null, {
        lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, decoupled: false, step: 1,
      }));
      // The first bias-corrected step moves each element by lr·sign(g).
      expectNear(await values(p), [0.9, 2.1], 1e-6);
      expectNear(await values(m), [0.05, -0.1], 1e-6);
    });

    it('toSnake/toCamel: translate option names', () => {
      expect(toSnake('weightDecay')).toBe('weight_decay');
      expect(toCamel('max_exp_avg_sq')).toBe('maxExpAvgSq');
    });
  });
}
