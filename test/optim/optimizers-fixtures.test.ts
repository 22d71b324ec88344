/**
 * @module optim/optimizers-fixtures.test — 20 steps of every optimizer configuration match
 * PyTorch 1.13 (test/fixtures/optim.json): parameters after each step, losses, and the final
 * state dict (layout, keys and values), on every backend.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { liveBuffers, tidy } from '../../runtime/memory.ts';
import { Tensor } from '../../runtime/tensor/index.ts';
import { Linear, Sequential, Tanh } from '../../runtime/nn/index.ts';
import { mseLoss } from '../../runtime/nn/functional.ts';
import { Adam, AdamW, RMSprop, SGD, type Optimizer, type ParamGroupInput } from '../../runtime/optim/index.ts';
import { BACKENDS } from '../nn/helpers.ts';
import {
  expectMatches,
  fromFixture,
  loadFixture,
  noteError,
  worstErrors,
  type FixtureTensor,
} from './fixture-helpers.ts';

interface OptimConfig {
  readonly optimizer: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop';
  readonly options: Readonly<Record<string, unknown>>;
  readonly group2_lr: number;
  readonly losses: readonly number[];
  readonly params_after_step: readonly (readonly (readonly number[])[])[];
  readonly state_dict: {
    readonly state: Readonly<Record<string, Readonly<Record<string, FixtureTensor | number | null>>>>;
    readonly param_groups: readonly Readonly<Record<string, unknown>>[];
  };
}
interface OptimFixture {
  readonly steps: number;
  readonly init: Readonly<Record<string, FixtureTensor>>;
  readonly x: FixtureTensor;
  readonly y: FixtureTensor;
  readonly configs: readonly OptimConfig[];
}

const FIX = loadFixture<OptimFixture>('optim.json');
const RTOL = 1e-5;
const ATOL = 1e-6;

function makeOptimizer(c: OptimConfig, groups: ParamGroupInput[]): Optimizer {
  const o = c.options as never;
  switch (c.optimizer) {
    case 'SGD':
      return new SGD(groups, o);
    case 'Adam':
      return new Adam(groups, o);
    case 'AdamW':
      return new AdamW(groups, o);
    case 'RMSprop':
      return new RMSprop(groups, o);
  }
}

function label(c: OptimConfig): string {
  return `${c.optimizer}(${JSON.stringify(c.options)})`;
}

for (const backend of BACKENDS) {
  describe(`optimizers vs PyTorch on ${backend.name}`, () => {
    beforeEach(() => {
      setDefaultBackend(backend);
    });

    for (const c of FIX.configs) {
      it(`${label(c)}: 20 steps match torch.optim.${c.optimizer}`, async () => {
        const model = new Sequential(new Linear(4, 3), new Tanh(), new Linear(3, 2));
        const sd: Record<string, Tensor> = {};
        for (const [k, v] of Object.entries(FIX.init)) sd[k] = fromFixture(v);
        model.loadStateDict(sd);
        const [first, , last] = [...model.children()] as [Linear, Tanh, Linear];
        const x = fromFixture(FIX.x);
        const y = fromFixture(FIX.y);
        const opt = makeOptimizer(c, [{ params: first.parameters() }, { params: last.parameters(), lr: c.group2_lr }]);
        const params = model.parameters();
        const before = liveBuffers().liveBuffers;
        for (let step = 0; step < FIX.steps; step++) {
          opt.zeroGrad();
          const loss = tidy(() => {
            const l = mseLoss(model.forward(x), y);
            l.backward();
            return l;
          });
          opt.step();
          const lossErr = expectMatches(
            await loss.data(),
            [c.losses[step]!],
            RTOL,
            ATOL,
            `${label(c)} loss at step ${step + 1}`,
          );
          loss.dispose();
          noteError(`${c.optimizer} loss`, lossErr);
          for (let i = 0; i < params.length; i++) {
            const err = expectMatches(
              await params[i]!.data(),
              c.params_after_step[step]![i]!,
              RTOL,
              ATOL,
              `${label(c)} param ${i} after step ${step + 1}`,
            );
            noteError(c.optimizer, err);
          }
        }
        // Once the gradients are dropped, the steps have left only the optimizer's state alive.
        opt.zeroGrad();
        const stateTensors = [...opt.state.values()]
          .flatMap((s) => Object.values(s))
          .filter((v) => v instanceof Tensor).length;
        expect(liveBuffers().liveBuffers - before).toBe(stateTensors);

        const ours = opt.stateDict();
        const torch = c.state_dict;
        expect(ours.param_groups).toEqual(torch.param_groups);
        expect(Object.keys(ours.state).map(Number).sort()).toEqual(Object.keys(torch.state).map(Number).sort());
        for (const [k, entry] of Object.entries(torch.state)) {
          const mine = ours.state[Number(k)]!;
          expect(Object.keys(mine).sort()).toEqual(Object.keys(entry).sort());
          for (const [sk, sv] of Object.entries(entry)) {
            const v = mine[sk];
            if (sv === null || typeof sv === 'number') {
              expect(v).toBe(sv);
              continue;
            }
            expect(v).toBeInstanceOf(Tensor);
            // Buffers that accumulate ± terms (momentum) cancel in places: atol scales with the buffer's size.
            const scale = Math.max(...(sv.data as number[]).map(Math.abs));
            const err = expectMatches(
              await (v as Tensor).data(),
              sv.data as number[],
              RTOL,
              Math.max(ATOL, 1e-6 * scale),
              `${label(c)} state ${k}.${sk}`,
            );
            noteError(`${c.optimizer} state`, err);
          }
        }
      });
    }
  });
}

afterAll(() => {
  if (typeof process !== 'undefined' && process.env['FIXTURE_REPORT'] === '1') {
    console.log(`FIXTURE_REPORT ${JSON.stringify(Object.fromEntries(worstErrors))}`);
  }
});
