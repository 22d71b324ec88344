/**
 * @module optim/schedulers-fixtures.test — every scheduler's lr sequence (and OneCycleLR's
 * momentum/beta1), the param-group keys it sets, and its state-dict keys match PyTorch 1.13
 * (test/fixtures/schedulers.json), on every backend.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { BACKENDS } from '../nn/helpers.ts';
import { loadFixture } from './fixture-helpers.ts';
import { makeOptimizer, makeScheduler } from './scheduler-helpers.ts';

interface SchedCase {
  readonly name: string;
  readonly scheduler: string;
  readonly optimizer: 'SGD' | 'Adam';
  readonly options: Readonly<Record<string, unknown>>;
  readonly lrs: readonly (readonly number[])[];
  readonly momenta: readonly (readonly number[])[];
  readonly metrics: readonly number[] | null;
  readonly state_dict_keys: readonly string[];
  readonly groups: readonly Readonly<Record<string, unknown>>[];
}

const FIX = loadFixture<{ cases: SchedCase[] }>('schedulers.json');
const RTOL = 1e-12;

function expectCloseValue(actual: unknown, expected: unknown, context: string): void {
  if (typeof expected === 'number') {
    expect(typeof actual, context).toBe('number');
    const a = actual as number;
    expect(Math.abs(a - expected), `${context}: expected ${expected}, got ${a}`).toBeLessThanOrEqual(
      RTOL * Math.abs(expected) + 1e-300,
    );
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), context).toBe(true);
    expect((actual as unknown[]).length, context).toBe(expected.length);
    expected.forEach((e, i) => expectCloseValue((actual as unknown[])[i], e, `${context}[${i}]`));
  } else {
    expect(actual, context).toEqual(expected);
  }
}

for (const backend of BACKENDS) {
  describe(`schedulers vs PyTorch on ${backend.name}`, () => {
    beforeEach(() => {
      setDefaultBackend(backend);
    });

    for (const c of FIX.cases) {
      it(`${c.name}: lr sequence matches torch.optim.lr_scheduler.${c.scheduler}`, () => {
        const opt = makeOptimizer(c.optimizer);
        const sched = makeScheduler(c.scheduler, opt, c.options);
        const momentum = (): number[] =>
          opt.paramGroups.map((g) =>
            Array.isArray(g['betas']) ? (g['betas'] as number[])[0]! : (g['momentum'] as number),
          );
        expectCloseValue(sched.getLastLr(), c.lrs[0], `${c.name} lr at epoch 0`);
        expectCloseValue(momentum(), c.momenta[0], `${c.name} momentum at epoch 0`);
        for (let i = 1; i < c.lrs.length; i++) {
          opt.step();
          sched.step(c.metrics === null ? undefined : c.metrics[i - 1]);
          expectCloseValue(sched.getLastLr(), c.lrs[i], `${c.name} lr at epoch ${i}`);
          expectCloseValue(momentum(), c.momenta[i], `${c.name} momentum at epoch ${i}`);
        }
        const groups = opt.stateDict().param_groups.map((g) => {
          const { params: _params, ...rest } = g;
          return rest;
        });
        expectCloseValue(groups, c.groups, `${c.name} param_groups`);
        // torch keeps OneCycleLR's bound anneal function; we keep its name.
        const torchKeys = c.state_dict_keys.map((k) => (k === 'anneal_func' ? 'anneal_strategy' : k));
        expect(Object.keys(sched.stateDict()).sort()).toEqual([...torchKeys].sort());
      });
    }
  });
}
