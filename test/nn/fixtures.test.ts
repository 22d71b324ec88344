/**
 * @module nn/fixtures.test — nn forward outputs and gradients match PyTorch 1.13
 * (test/fixtures/nn.json and seed-model.{json,bin}, written by make-fixtures.py): layers
 * loaded with PyTorch's state dicts (running stats after a training step included),
 * activations, every loss of F with each reduction, and the seed autoencoder loaded from a
 * PyTorch-initialised state dict — on every backend.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../runtime/tensor/index.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import * as F from '../../runtime/nn/functional.ts';
import {
  BatchNorm1d,
  BatchNorm2d,
  Embedding,
  LayerNorm,
  Linear,
  Module,
  ReLU,
  Sequential,
} from '../../runtime/nn/index.ts';
import { BACKENDS } from './helpers.ts';
import {
  expectMatches,
  fromFixture,
  loadFixture,
  noteError,
  worstErrors,
  type FixtureTensor,
} from '../optim/fixture-helpers.ts';

interface LayerCase {
  readonly name: string;
  readonly ctor: { readonly type: string; readonly args: readonly unknown[]; readonly [k: string]: unknown };
  readonly train: boolean;
  readonly state_dict: Readonly<Record<string, FixtureTensor>>;
  readonly inputs: readonly FixtureTensor[];
  readonly upstream: FixtureTensor;
  readonly output: FixtureTensor;
  readonly input_grads: readonly (FixtureTensor | null)[];
  readonly param_grads: Readonly<Record<string, FixtureTensor>>;
  readonly state_after: Readonly<Record<string, FixtureTensor>>;
}
interface ActCase {
  readonly name: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly input: FixtureTensor;
  readonly upstream: FixtureTensor;
  readonly output: FixtureTensor;
  readonly grad: FixtureTensor;
}
interface LossCase {
  readonly name: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly input: FixtureTensor;
  readonly target: FixtureTensor;
  readonly output: FixtureTensor;
  readonly grad: FixtureTensor;
  readonly tensors?: Readonly<Record<string, FixtureTensor>>;
}
interface SeedFixture {
  readonly binary: string;
  readonly tensors: Readonly<
    Record<string, { readonly shape: readonly number[]; readonly offset: number; readonly length: number }>
  >;
  readonly z: FixtureTensor;
  readonly loss: number;
  readonly grads: Readonly<
    Record<
      string,
      {
        readonly indices: readonly number[] | null;
        readonly values: readonly number[];
        readonly sum: number;
        readonly abs_sum: number;
      }
    >
  >;
}

const NN = loadFixture<{ layers: LayerCase[]; activations: ActCase[]; losses: LossCase[] }>('nn.json');
const SEED = loadFixture<SeedFixture>('seed-model.json');
const SEED_BIN = new Float32Array(
  new Uint8Array(readFileSync(new URL(`../fixtures/${SEED.binary}`, import.meta.url))).buffer,
);
const RTOL = 1e-5;
const ATOL = 1e-6;

function buildLayer(c: LayerCase['ctor']): Module & { forward(x: Tensor): Tensor } {
  const a = c.args;
  switch (c.type) {
    case 'Linear':
      return new Linear(a[0] as number, a[1] as number, c['bias'] === false ? { bias: false } : {});
    case 'LayerNorm':
      return new LayerNorm(a[0] as number | number[], c['eps'] === undefined ? {} : { eps: c['eps'] as number });
    case 'BatchNorm1d':
      return new BatchNorm1d(a[0] as number, c['momentum'] === undefined ? {} : { momentum: c['momentum'] as number });
    case 'BatchNorm2d':
      return new BatchNorm2d(a[0] as number);
    case 'Embedding':
      return new Embedding(
        a[0] as number,
        a[1] as number,
        c['paddingIdx'] === undefined ? {} : { paddingIdx: c['paddingIdx'] as number },
      );
    default:
      throw new Error(`unknown layer ${c.type}`);
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

function activation(c: ActCase, x: Tensor): Tensor {
  const o = c.options;
  switch (c.name) {
    case 'relu':
      return F.relu(x);
    case 'leakyRelu':
      return F.leakyRelu(x, o['negativeSlope'] as number);
    case 'sigmoid':
      return F.sigmoid(x);
    case 'tanh':
      return F.tanh(x);
    case 'gelu':
      return F.gelu(x, o as F.GeluOptions);
    case 'silu':
      return F.silu(x);
    case 'softplus':
      return F.softplus(x, o as F.SoftplusOptions);
    case 'elu':
      return F.elu(x, (o['alpha'] as number | undefined) ?? 1);
    case 'softmax':
      return F.softmax(x, o['dim'] as number);
    case 'logSoftmax':
      return F.logSoftmax(x, o['dim'] as number);
    default:
      throw new Error(`unknown activation ${c.name}`);
  }
}

function lossOf(c: LossCase, input: Tensor, target: Tensor): Tensor {
  const opts: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c.options)) {
    opts[k] = typeof v === 'string' && c.tensors?.[v] !== undefined ? fromFixture(c.tensors[v]) : v;
  }
  const o = opts as never;
  switch (c.name) {
    case 'mseLoss':
      return F.mseLoss(input, target, o);
    case 'l1Loss':
      return F.l1Loss(input, target, o);
    case 'smoothL1Loss':
      return F.smoothL1Loss(input, target, o);
    case 'crossEntropy':
      return F.crossEntropy(input, target, o);
    case 'nllLoss':
      return F.nllLoss(input, target, o);
    case 'binaryCrossEntropy':
      return F.binaryCrossEntropy(input, target, o);
    case 'binaryCrossEntropyWithLogits':
      return F.binaryCrossEntropyWithLogits(input, target, o);
    default:
      throw new Error(`unknown loss ${c.name}`);
  }
}

class LitAutoEncoder extends Module {
  encoder = new Sequential(new Linear(28 * 28, 64), new ReLU(), new Linear(64, 3));
  decoder = new Sequential(new Linear(3, 64), new ReLU(), new Linear(64, 28 * 28));
  forward(x: Tensor): Tensor {
    return this.decoder.forward(this.encoder.forward(x));
  }
}

function seedTensor(key: string): Tensor {
  const t = SEED.tensors[key]!;
  return tensor(SEED_BIN.slice(t.offset, t.offset + t.length)).reshape([...t.shape]);
}

for (const backend of BACKENDS) {
  describe(`nn vs PyTorch on ${backend.name}`, () => {
    beforeEach(() => {
      setDefaultBackend(backend);
    });

    for (const c of NN.layers) {
      it(`${c.name}: output, gradients and buffers match torch`, async () => {
        const m = buildLayer(c.ctor);
        const sd: Record<string, Tensor> = {};
        for (const [k, v] of Object.entries(c.state_dict)) sd[k] = fromFixture(v);
        m.loadStateDict(sd);
        m.train(c.train);
        const inputs = c.inputs.map((t) => fromFixture(t, { requiresGrad: t.dtype.startsWith('float') }));
        const out = m.forward(inputs[0]!);
        await check(out, c.output, `${c.name} output`, c.ctor.type);
        out.backward(fromFixture(c.upstream));
        for (let i = 0; i < inputs.length; i++) {
          const g = c.input_grads[i];
          if (g !== null && g !== undefined)
            await check(inputs[i]!.grad, g, `${c.name} input grad`, `${c.ctor.type} grads`, 1e-5);
        }
        const named = new Map(m.namedParameters());
        for (const [k, g] of Object.entries(c.param_grads))
          await check(named.get(k)!.grad, g, `${c.name} grad of ${k}`, `${c.ctor.type} grads`, 1e-5);
        const after = m.stateDict();
        for (const [k, v] of Object.entries(c.state_after))
          await check(after.get(k) ?? null, v, `${c.name} ${k} after forward`, `${c.ctor.type} buffers`);
      });
    }

    for (const c of NN.activations) {
      it(`${c.name}(${JSON.stringify(c.options)}): output and gradient match torch`, async () => {
        const x = fromFixture(c.input, { requiresGrad: true });
        const y = activation(c, x);
        await check(y, c.output, `${c.name} output`, c.name);
        y.backward(fromFixture(c.upstream));
        await check(x.grad, c.grad, `${c.name} grad`, `${c.name} grad`);
      });
    }

    for (const c of NN.losses) {
      it(`${c.name}(${JSON.stringify(c.options)}): value and input gradient match torch`, async () => {
        const input = fromFixture(c.input, { requiresGrad: true });
        const loss = lossOf(c, input, fromFixture(c.target));
        await check(loss, c.output, `${c.name} ${JSON.stringify(c.options)} value`, c.name);
        loss.sum().backward();
        await check(input.grad, c.grad, `${c.name} ${JSON.stringify(c.options)} grad`, `${c.name} grad`);
      });
    }

    it('seed autoencoder: a PyTorch-initialised state dict loads, and forward, loss and gradients match torch', async () => {
      const model = new LitAutoEncoder();
      const sd: Record<string, Tensor> = {};
      for (const k of Object.keys(SEED.grads)) sd[k] = seedTensor(k);
      expect(model.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
      const x = seedTensor('x');
      const z = model.encoder.forward(x);
      await check(z, SEED.z, 'seed z', 'seed model', 1e-5);
      const xHat = model.decoder.forward(z);
      const want = SEED.tensors['x_hat']!;
      noteError(
        'seed model',
        expectMatches(
          await xHat.data(),
          SEED_BIN.slice(want.offset, want.offset + want.length),
          RTOL,
          1e-5,
          'seed x_hat',
        ),
      );
      const loss = F.mseLoss(xHat, x);
      noteError('seed model', expectMatches(await loss.data(), [SEED.loss], RTOL, 0, 'seed loss'));
      loss.backward();
      for (const [k, p] of model.namedParameters()) {
        const g = SEED.grads[k]!;
        const data = await p.grad!.data();
        const picked = g.indices === null ? Array.from(data) : g.indices.map((i) => data[i]!);
        noteError('seed model grads', expectMatches(picked, g.values, RTOL, 1e-7, `seed grad of ${k}`));
        let sum = 0;
        let absSum = 0;
        for (const v of data) {
          sum += v;
          absSum += Math.abs(v);
        }
        expect(Math.abs(absSum - g.abs_sum), `seed grad of ${k}: sum of |g|`).toBeLessThanOrEqual(1e-4 * g.abs_sum);
        expect(Math.abs(sum - g.sum), `seed grad of ${k}: sum`).toBeLessThanOrEqual(1e-4 * g.abs_sum);
      }
    });
  });
}

afterAll(() => {
  if (typeof process !== 'undefined' && process.env['FIXTURE_REPORT'] === '1') {
    console.log(`FIXTURE_REPORT ${JSON.stringify(Object.fromEntries(worstErrors))}`);
  }
});
