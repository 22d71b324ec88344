/**
 * @module optim/schedulers.test — scheduler behaviour beyond the PyTorch fixtures: state-dict
 * round trips resume the same sequence, resuming needs initialLr, and typed errors for bad
 * options.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { zeros } from '../../runtime/tensor/index.ts';
import { ValueError } from '../../runtime/errors.ts';
import { Parameter } from '../../runtime/nn/index.ts';
import {
  CosineAnnealingLR,
  ExponentialLR,
  LinearLR,
  MultiStepLR,
  OneCycleLR,
  ReduceLROnPlateau,
  SGD,
  StepLR,
} from '../../runtime/optim/index.ts';
import { makeOptimizer, makeScheduler } from './scheduler-helpers.ts';

const sgd = (): SGD => new SGD([new Parameter(zeros([1]))], { lr: 0.1, momentum: 0.9 });

describe('schedulers', () => {
  // Schedulers compute plain numbers; the optimizer's parameters live on the reference backend.
  beforeAll(() => {
    setDefaultBackend(createReferenceBackend());
  });

  const cases: [string, Record<string, unknown>][] = [
    ['StepLR', { stepSize: 3, gamma: 0.5 }],
    ['MultiStepLR', { milestones: [2, 5, 5], gamma: 0.5 }],
    ['ExponentialLR', { gamma: 0.9 }],
    ['CosineAnnealingLR', { TMax: 4, etaMin: 0.01 }],
    ['LinearLR', { totalIters: 6 }],
    ['OneCycleLR', { maxLr: 1, totalSteps: 20, threePhase: true }],
  ];
  for (const [name, options] of cases) {
    it(`${name}: stateDict/loadStateDict resumes the same lr sequence`, () => {
      const o1 = makeOptimizer('SGD');
      const s1 = makeScheduler(name, o1, options);
      for (let i = 0; i < 7; i++) s1.step();
      const saved = JSON.parse(JSON.stringify({ opt: o1.stateDict(), sched: s1.stateDict() })) as {
        opt: never;
        sched: Record<string, unknown>;
      };
      expect(saved.sched['last_epoch']).toBe(7);
      const o2 = makeOptimizer('SGD');
      const s2 = makeScheduler(name, o2, options);
      o2.loadStateDict(saved.opt);
      s2.loadStateDict(saved.sched);
      for (let i = 0; i < 10; i++) {
        s1.step();
        s2.step();
        expect(s2.getLastLr()).toEqual(s1.getLastLr());
      }
    });
  }

  it('ReduceLROnPlateau: stateDict/loadStateDict resumes counting', () => {
    const a = new ReduceLROnPlateau(sgd(), { patience: 1 });
    a.step(1);
    a.step(2);
    const b = new ReduceLROnPlateau(sgd(), { patience: 1 });
    b.loadStateDict(a.stateDict());
    expect(b.numBadEpochs).toBe(1);
    expect(b.best).toBe(1);
    b.step(3);
    expect(b.getLastLr()).toEqual([0.010000000000000002]);
  });

  it('LRScheduler: sets initialLr; resuming with lastEpoch needs it', () => {
    const opt = sgd();
    expect(() => new StepLR(opt, { stepSize: 2, lastEpoch: 3 })).toThrow(
      /param 'initial_lr' is not specified in paramGroups\[0\]/,
    );
    new StepLR(opt, { stepSize: 2 });
    expect(opt.paramGroups[0]!.initialLr).toBe(0.1);
    expect(opt.stateDict().param_groups[0]!['initial_lr']).toBe(0.1);
  });

  it('schedulers: bad options are typed errors', () => {
    expect(() => new StepLR(sgd(), { stepSize: 0 })).toThrow(
      'StepLR: invalid stepSize; expected an integer >= 1, got 0',
    );
    expect(() => new StepLR(sgd(), { stepSize: 2, step_size: 3 } as never)).toThrow(
      "StepLR: unknown option 'step_size'",
    );
    expect(() => new MultiStepLR(sgd(), { milestones: [1.5] })).toThrow(ValueError);
    expect(() => new ExponentialLR(sgd(), { gamma: Number.NaN })).toThrow(ValueError);
    expect(() => new CosineAnnealingLR(sgd(), { TMax: 0 })).toThrow(ValueError);
    expect(() => new LinearLR(sgd(), { startFactor: 2 })).toThrow(
      'LinearLR: invalid startFactor; expected 0 < startFactor <= 1, got 2',
    );
    expect(() => new OneCycleLR(sgd(), { maxLr: 1 })).toThrow(/OneCycleLR: the cycle length is not given/);
    expect(() => new OneCycleLR(sgd(), { maxLr: [1, 2], totalSteps: 10 })).toThrow(ValueError);
    expect(() => new OneCycleLR(sgd(), { maxLr: 1, totalSteps: 10, annealStrategy: 'exp' as never })).toThrow(
      ValueError,
    );
    const oc = new OneCycleLR(sgd(), { maxLr: 1, totalSteps: 2 });
    oc.step();
    oc.step();
    expect(() => oc.step()).toThrow(/OneCycleLR: tried to step 4 times/);
    expect(() => new ReduceLROnPlateau(sgd(), { factor: 1 })).toThrow(/factor should be < 1.0/);
    expect(() => new ReduceLROnPlateau(sgd(), { mode: 'up' as never })).toThrow(ValueError);
    expect(() => new ReduceLROnPlateau(sgd(), { thresholdMode: 'x' as never })).toThrow(ValueError);
    expect(() => new ReduceLROnPlateau(sgd(), { minLr: [0, 0] })).toThrow(ValueError);
    expect(() => new ReduceLROnPlateau(sgd()).step(Number.NaN)).toThrow(ValueError);
    const s = new StepLR(sgd(), { stepSize: 2 });
    expect(() => s.loadStateDict({ last_epoch: 1, base_lrs: [0.1, 0.2] })).toThrow(ValueError);
  });
});
