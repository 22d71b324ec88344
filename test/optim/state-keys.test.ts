/**
 * Optimizer.loadStateDict refuses a corrupted per-parameter state before the optimizer changes.
 *
 * A checkpoint whose Adam state had a mangled key ('exp_avf') used to load, and the first
 * step then failed with a TypeError inside the update; now the load itself is a ValueError
 * naming the state and the keys expected, and the optimizer keeps what it had.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { ValueError } from '../../runtime/errors.ts';
import { Parameter } from '../../runtime/nn/index.ts';
import { Adam, RMSprop, SGD } from '../../runtime/optim/index.ts';
import { Tensor, tensor } from '../../runtime/tensor/index.ts';
import { BACKENDS } from '../nn/helpers.ts';

for (const backend of BACKENDS) {
  describe(`optimizer state keys on ${backend.name}`, () => {
    beforeEach(() => {
      setDefaultBackend(backend);
    });

    /** An optimizer of `make`'s kind after two steps, and its state dict. */
    function stepped<O extends Adam | SGD | RMSprop>(
      make: (p: Parameter) => O,
    ): { p: Parameter; opt: O; sd: ReturnType<O['stateDict']> } {
      const p = new Parameter(tensor([0.5, -1, 2]));
      const opt = make(p);
      for (const g of [
        [1, 2, 3],
        [-1, 0.5, 2],
      ]) {
        p.grad = tensor(g);
        opt.step();
      }
      return { p, opt, sd: opt.stateDict() as ReturnType<O['stateDict']> };
    }

    it('Adam.loadStateDict: a mangled, missing or extra key is a ValueError and the state stays', () => {
      const { p, opt, sd } = stepped((q) => new Adam([q], { lr: 0.1 }));
      const entry = sd.state[0]!;
      const before = opt.state.get(p)!['exp_avg'];
      const { exp_avg: expAvg, ...rest } = entry;
      const mangled = { ...rest, exp_avf: expAvg ?? null };
      expect(() => opt.loadStateDict({ ...sd, state: { 0: mangled } })).toThrow(ValueError);
      expect(() => opt.loadStateDict({ ...sd, state: { 0: mangled } })).toThrow(
        "Adam.loadStateDict: state 0 has an unknown key 'exp_avf'; expected keys step, exp_avg, exp_avg_sq, max_exp_avg_sq, got step, exp_avg_sq, exp_avf",
      );
      expect(() => opt.loadStateDict({ ...sd, state: { 0: rest } })).toThrow("state 0 lacks the tensor 'exp_avg'");
      const { step: _step, ...noStep } = entry;
      expect(() => opt.loadStateDict({ ...sd, state: { 0: noStep } })).toThrow("state 0 lacks 'step'");
      expect(() => opt.loadStateDict({ ...sd, state: { 0: { ...entry, step: -1 } } })).toThrow(
        'invalid step; expected an integer >= 0, got -1',
      );
      expect(() => opt.loadStateDict({ ...sd, state: { 0: { ...entry, step: 1.5 } } })).toThrow('invalid step');
      expect(() => opt.loadStateDict({ ...sd, state: { 0: { ...entry, max_exp_avg_sq: 3 } } })).toThrow(
        "'max_exp_avg_sq' of the wrong kind",
      );
      expect(opt.state.get(p)!['exp_avg']).toBe(before);
      // the intact state dict still loads, and the next step runs
      opt.loadStateDict(sd);
      p.grad = tensor([0.1, 0.1, 0.1]);
      opt.step();
      expect(opt.state.get(p)!['step']).toBe(3);
    });

    it('SGD and RMSprop.loadStateDict: keys outside their own state are refused', () => {
      const sgd = stepped((q) => new SGD([q], { lr: 0.1, momentum: 0.9 }));
      expect(() =>
        sgd.opt.loadStateDict({ ...sgd.sd, state: { 0: { momentum_bufer: sgd.sd.state[0]!['momentum_buffer']! } } }),
      ).toThrow("SGD.loadStateDict: state 0 has an unknown key 'momentum_bufer'");
      sgd.opt.loadStateDict({ ...sgd.sd, state: { 0: { momentum_buffer: null } } });
      const rms = stepped((q) => new RMSprop([q], { lr: 0.01 }));
      const { square_avg: _sq, ...noSquare } = rms.sd.state[0]!;
      expect(() => rms.opt.loadStateDict({ ...rms.sd, state: { 0: noSquare } })).toThrow(
        "RMSprop.loadStateDict: state 0 lacks the tensor 'square_avg'",
      );
      expect(rms.opt.state.get(rms.p)!['square_avg']).toBeInstanceOf(Tensor);
    });
  });
}
