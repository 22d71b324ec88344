/**
 * @module nn/conv-fixtures.test — Conv2d, MaxPool2d, AvgPool2d and AdaptiveAvgPool2d match
 * PyTorch 1.13 (test/fixtures/conv.json, written by make-fixtures.py): outputs, input and
 * parameter gradients to 1e-5 relative, and reprs, on every backend.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import type { Tensor } from '../../runtime/tensor/index.ts';
import { AdaptiveAvgPool2d, AvgPool2d, Conv2d, MaxPool2d, type Module } from '../../runtime/nn/index.ts';
import type { Conv2dModuleOptions } from '../../runtime/nn/index.ts';
import type { AdaptiveSize, AvgPool2dOptions, MaxPool2dOptions, Size2 } from '../../runtime/nn/functional.ts';
import { BACKENDS } from './helpers.ts';
import {
  expectMatches,
  fromFixture,
  loadFixture,
  noteError,
  worstErrors,
  type FixtureTensor,
} from '../optim/fixture-helpers.ts';

interface ConvCase {
  readonly name: string;
  readonly ctor: {
    readonly type: string;
    readonly args: readonly unknown[];
    readonly options: Readonly<Record<string, unknown>>;
  };
  readonly repr: string;
  readonly state_dict: Readonly<Record<string, FixtureTensor>>;
  readonly input: FixtureTensor;
  readonly upstream: FixtureTensor;
  readonly output: FixtureTensor;
  readonly input_grad: FixtureTensor;
  readonly param_grads: Readonly<Record<string, FixtureTensor>>;
}

const CONV = loadFixture<{ torch: string; cases: ConvCase[] }>('conv.json');
const RTOL = 1e-5;
const ATOL = 1e-6;

function build(c: ConvCase['ctor']): Module & { forward(x: Tensor): Tensor } {
  const a = c.args;
  const o = c.options;
  switch (c.type) {
    case 'Conv2d':
      return new Conv2d(a[0] as number, a[1] as number, a[2] as Size2, o as Conv2dModuleOptions);
    case 'MaxPool2d':
      return new MaxPool2d(a[0] as Size2, o as MaxPool2dOptions);
    case 'AvgPool2d':
      return new AvgPool2d(a[0] as Size2, o as AvgPool2dOptions);
    case 'AdaptiveAvgPool2d':
      return new AdaptiveAvgPool2d(a[0] as AdaptiveSize);
    default:
      throw new Error(`unknown module ${c.type}`);
  }
}

async function check(
  actual: Tensor | null,
  expected: FixtureTensor,
  context: string,
  label: string,
  atol = ATOL,
): Promise<void> {
  expect(actual, `${context}: missing`).not.toBeNull();
  expect([...actual!.shape], `${context}: shape`).toEqual([...expected.shape]);
  noteError(label, expectMatches(await actual!.data(), expected.data as number[], RTOL, atol, context));
}

for (const backend of BACKENDS) {
  describe(`conv and pooling vs PyTorch on ${backend.name}`, () => {
    beforeEach(() => {
      setDefaultBackend(backend);
    });

    for (const c of CONV.cases) {
      it(`${c.name}: output, input and parameter gradients match torch`, async () => {
        const m = build(c.ctor);
        const sd: Record<string, Tensor> = {};
        for (const [k, v] of Object.entries(c.state_dict)) sd[k] = fromFixture(v);
        expect(m.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
        const x = fromFixture(c.input, { requiresGrad: true });
        const out = m.forward(x);
        await check(out, c.output, `${c.name} output`, `${c.ctor.type} output`);
        out.backward(fromFixture(c.upstream));
        await check(x.grad, c.input_grad, `${c.name} input grad`, `${c.ctor.type} grads`, 1e-5);
        const named = new Map(m.namedParameters());
        expect([...named.keys()].sort()).toEqual(Object.keys(c.param_grads).sort());
        for (const [k, g] of Object.entries(c.param_grads))
          await check(named.get(k)!.grad, g, `${c.name} grad of ${k}`, `${c.ctor.type} grads`, 1e-5);
      });
    }
  });
}

describe('conv and pooling reprs', () => {
  for (const c of CONV.cases) {
    it(`${c.name}: toString() prints torch's repr`, () => {
      expect(String(build(c.ctor))).toBe(c.repr);
    });
  }
});

afterAll(() => {
  if (typeof process !== 'undefined' && process.env['FIXTURE_REPORT'] === '1') {
    console.log(`FIXTURE_REPORT ${JSON.stringify(Object.fromEntries(worstErrors))}`);
  }
});
