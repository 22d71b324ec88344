/**
 * @module nn/module.test — Module: discovery and PyTorch key names, parameter counts,
 * state dicts (round trip, strict and non-strict errors), modes, zeroGrad, apply,
 * containers and the repr, on every available backend.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { Tensor, ones, randn, tensor, zeros } from '../../runtime/tensor/index.ts';
import { ValueError, IndexError } from '../../runtime/errors.ts';
import { manualSeed } from '../../runtime/random.ts';
import {
  BatchNorm1d,
  Dropout,
  Embedding,
  Identity,
  LayerNorm,
  Linear,
  Module,
  ModuleDict,
  ModuleList,
  Parameter,
  ReLU,
  Sequential,
  StateDictError,
  isParameter,
  init,
} from '../../runtime/nn/index.ts';
import { mseLoss } from '../../runtime/nn/functional.ts';
import { BACKENDS, values } from './helpers.ts';

class LitAutoEncoder extends Module {
  encoder = new Sequential(new Linear(28 * 28, 64), new ReLU(), new Linear(64, 3));
  decoder = new Sequential(new Linear(3, 64), new ReLU(), new Linear(64, 28 * 28));
  forward(x: Tensor): Tensor {
    return this.encoder.forward(x);
  }
}

const SEED_KEYS: [string, number[]][] = [
  ['encoder.0.weight', [64, 784]],
  ['encoder.0.bias', [64]],
  ['encoder.2.weight', [3, 64]],
  ['encoder.2.bias', [3]],
  ['decoder.0.weight', [64, 3]],
  ['decoder.0.bias', [64]],
  ['decoder.2.weight', [784, 64]],
  ['decoder.2.bias', [784]],
];

// torch: print(LitAutoEncoder()) for the quick-start model.
const SEED_REPR = `LitAutoEncoder(
  (encoder): Sequential(
    (0): Linear(in_features=784, out_features=64, bias=True)
    (1): ReLU()
    (2): Linear(in_features=64, out_features=3, bias=True)
  )
  (decoder): Sequential(
    (0): Linear(in_features=3, out_features=64, bias=True)
    (1): ReLU()
    (2): Linear(in_features=64, out_features=784, bias=True)
  )
)`;

for (const backend of BACKENDS) {
  describe(`nn.Module on ${backend.name}`, () => {
    beforeEach(() => {
      setDefaultBackend(backend);
      manualSeed(0);
    });

    it('module: the seed autoencoder has PyTorch parameter keys and shapes, in order', () => {
      const m = new LitAutoEncoder();
      expect([...m.namedParameters()].map(([k, p]) => [k, [...p.shape]])).toEqual(SEED_KEYS);
      expect(m.parameters()).toHaveLength(8);
      expect(
        m.parameters().every((p) => p.requiresGrad && isParameter(p) && p instanceof Parameter && p instanceof Tensor),
      ).toBe(true);
    });

    it('module: parameter counts (seed: 784·64+64 + 64·3+3 + 3·64+64 + 64·784+784 = 101,651)', () => {
      const m = new LitAutoEncoder();
      expect(784 * 64 + 64 + 64 * 3 + 3 + 3 * 64 + 64 + 64 * 784 + 784).toBe(101651);
      expect(m.numParameters()).toBe(101651);
      m.encoder.parameters().forEach((p) => {
        p.requiresGrad = false;
      });
      expect(m.numParameters({ trainableOnly: true })).toBe(101651 - (784 * 64 + 64 + 64 * 3 + 3));
      expect(m.numParameters()).toBe(101651);
    });

    it('module: children, modules and namedModules follow assignment order', () => {
      const m = new LitAutoEncoder();
      expect([...m.namedChildren()].map(([k]) => k)).toEqual(['encoder', 'decoder']);
      expect([...m.children()]).toEqual([m.encoder, m.decoder]);
      expect([...m.namedModules()].map(([k, mod]) => `${k}:${mod.constructor.name}`)).toEqual([
        ':LitAutoEncoder',
        'encoder:Sequential',
        'encoder.0:Linear',
        'encoder.1:ReLU',
        'encoder.2:Linear',
        'decoder:Sequential',
        'decoder.0:Linear',
        'decoder.1:ReLU',
        'decoder.2:Linear',
      ]);
      expect([...m.modules()]).toHaveLength(9);
      expect(m.getSubmodule('decoder.2')).toBe(m.decoder.at(2));
      expect(() => m.getSubmodule('decoder.7')).toThrow(ValueError);
    });

    it("module: toString matches PyTorch's repr of the seed model", () => {
      expect(String(new LitAutoEncoder())).toBe(SEED_REPR);
    });

    it('module: field names become snake_case keys, buffers and null parameters as torch', () => {
      class Net extends Module {
        hiddenLayer = new Linear(2, 2);
        posEmbedding = new Parameter(zeros([3]));
        bias: Parameter | null = null;
        plainTensor = ones([2]);
        runningStat: Tensor | null = null;
        constructor() {
          super();
          this.registerBuffer('runningStat', zeros([2]));
          this.registerBuffer('scratch', zeros([1]), { persistent: false });
        }
      }
      const n = new Net();
      expect([...n.namedParameters()].map(([k]) => k)).toEqual([
        'pos_embedding',
        'hidden_layer.weight',
        'hidden_layer.bias',
      ]);
      expect([...n.namedBuffers()].map(([k]) => k)).toEqual(['running_stat', 'scratch']);
      expect([...n.stateDict().keys()]).toEqual([
        'pos_embedding',
        'running_stat',
        'hidden_layer.weight',
        'hidden_layer.bias',
      ]);
      expect(isParameter(n.plainTensor)).toBe(false);
    });

    it("module: a shared parameter or module is listed once, as torch's remove_duplicate", () => {
      const shared = new Linear(3, 3);
      const m = new Sequential(shared, new ReLU(), shared);
      expect([...m.namedParameters()].map(([k]) => k)).toEqual(['0.weight', '0.bias']);
      expect(m.numParameters()).toBe(12);
      expect([...m.stateDict().keys()]).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    });

    it('module: registerParameter marks a tensor, and new Parameter returns the same tensor', () => {
      class P extends Module {
        w: Parameter | null = null;
        constructor() {
          super();
          this.registerParameter('w', ones([2]));
        }
      }
      const p = new P();
      expect(p.w).not.toBeNull();
      expect(p.w!.requiresGrad).toBe(true);
      const t = zeros([2]);
      expect(new Parameter(t)).toBe(t);
      expect(new Parameter(zeros([1]), false).requiresGrad).toBe(false);
      expect(() => p.registerParameter('a.b', null)).toThrow(ValueError);
    });

    it('module: stateDict round trip restores every value', async () => {
      const a = new LitAutoEncoder();
      manualSeed(1);
      const b = new LitAutoEncoder();
      expect(await values(b.encoder.at(0).parameters()[0]!)).not.toEqual(
        await values(a.encoder.at(0).parameters()[0]!),
      );
      const sd = a.stateDict();
      expect([...sd.entries()].map(([k, t]) => [k, [...t.shape]])).toEqual(SEED_KEYS);
      expect([...sd.values()].every((t) => !t.requiresGrad)).toBe(true);
      const result = b.loadStateDict(sd);
      expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
      for (const [k, t] of a.stateDict()) expect(await values(b.stateDict().get(k)!), k).toEqual(await values(t));
      // A plain object works too.
      expect(b.loadStateDict(Object.fromEntries(sd))).toEqual({ missingKeys: [], unexpectedKeys: [] });
      // The parameters stay the same tensors (copied in place), so an optimizer still holds them.
      const before = b.parameters();
      b.loadStateDict(sd);
      expect(b.parameters()).toEqual(before);
    });

    it('module: stateDict views share storage; keepVars returns the parameters', async () => {
      const l = new Linear(2, 2);
      expect(l.stateDict({ keepVars: true }).get('weight')).toBe(l.weight);
      const w = l.stateDict().get('weight')!;
      expect(w).not.toBe(l.weight);
      init.zeros_(l.weight);
      expect(await values(w)).toEqual([0, 0, 0, 0]);
      expect([...l.stateDict({ prefix: 'model.' }).keys()]).toEqual(['model.weight', 'model.bias']);
    });

    it('module: strict loading names missing and unexpected keys', () => {
      const m = new LitAutoEncoder();
      const sd = m.stateDict();
      sd.delete('decoder.2.bias');
      sd.set('decoder.9.weight', zeros([1]));
      sd.set('extra', zeros([1]));
      let err: unknown;
      try {
        m.loadStateDict(sd);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StateDictError);
      const e = err as StateDictError;
      expect(e.missingKeys).toEqual(['decoder.2.bias']);
      expect(e.unexpectedKeys).toEqual(['extra', 'decoder.9.weight']);
      expect(e.message).toContain('LitAutoEncoder.loadStateDict');
      expect(e.message).toContain('"decoder.2.bias"');
      expect(e.message).toContain('"decoder.9.weight"');
    });

    it('module: non-strict loading returns missing and unexpected keys and loads the rest', async () => {
      const src = new Linear(2, 3);
      const dst = new Linear(2, 3);
      const sd = new Map([
        ['weight', src.weight],
        ['running', zeros([1])],
      ]);
      const r = dst.loadStateDict(sd, { strict: false });
      expect(r).toEqual({ missingKeys: ['bias'], unexpectedKeys: ['running'] });
      expect(await values(dst.weight)).toEqual(await values(src.weight));
    });

    it('module: a mis-shaped key is an error even when non-strict, naming key and shapes', async () => {
      const m = new LitAutoEncoder();
      const sd = m.stateDict();
      sd.set('encoder.0.weight', zeros([64, 100]));
      for (const strict of [true, false]) {
        let err: unknown;
        try {
          m.loadStateDict(sd, { strict });
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(StateDictError);
        const e = err as StateDictError;
        expect(e.mismatchedKeys).toEqual([{ key: 'encoder.0.weight', expected: [64, 784], got: [64, 100] }]);
        expect(e.message).toContain('size mismatch for encoder.0.weight; expected [64,784]');
        expect(e.message).toContain('got [64,100]');
      }
    });

    it('module: BatchNorm buffers load, and a missing num_batches_tracked is filled as torch', async () => {
      const a = new BatchNorm1d(3);
      a.forward(randn([4, 3]));
      const sd = a.stateDict();
      expect([...sd.keys()]).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
      const b = new BatchNorm1d(3);
      b.loadStateDict(sd);
      expect(await values(b.runningMean!)).toEqual(await values(a.runningMean!));
      expect(await values(b.numBatchesTracked!)).toEqual([1]);
      sd.delete('num_batches_tracked');
      expect(new BatchNorm1d(3).loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    });

    it('module: train() and eval() set training on every descendant', () => {
      const m = new Sequential(new Linear(2, 2), new Sequential(new Dropout(0.5), new BatchNorm1d(2)));
      expect([...m.modules()].every((x) => x.training)).toBe(true);
      expect(m.eval()).toBe(m);
      expect([...m.modules()].every((x) => !x.training)).toBe(true);
      m.train();
      expect([...m.modules()].every((x) => x.training)).toBe(true);
      m.train(false);
      expect([...m.modules()].some((x) => x.training)).toBe(false);
    });

    it('module: zeroGrad drops gradients by default and zeroes them with setToNone false', async () => {
      const m = new Linear(3, 2);
      const x = randn([4, 3]);
      mseLoss(m.forward(x), zeros([4, 2])).backward();
      expect(m.weight.grad).not.toBeNull();
      m.zeroGrad({ setToNone: false });
      expect(await values(m.weight.grad!)).toEqual([0, 0, 0, 0, 0, 0]);
      m.zeroGrad();
      expect(m.weight.grad).toBeNull();
      expect(m.bias!.grad).toBeNull();
    });

    it('module: apply visits children before the parent', async () => {
      const m = new LitAutoEncoder();
      const seen: string[] = [];
      m.apply((mod) => seen.push(mod.constructor.name));
      expect(seen).toEqual([
        'Linear',
        'ReLU',
        'Linear',
        'Sequential',
        'Linear',
        'ReLU',
        'Linear',
        'Sequential',
        'LitAutoEncoder',
      ]);
      m.apply((mod) => {
        if (mod instanceof Linear) init.zeros_(mod.weight);
      });
      expect((await values(m.decoder.at(2).parameters()[0]!)).every((v) => v === 0)).toBe(true);
    });

    it('containers: Sequential runs in order; at() and length; index errors', async () => {
      const s = new Sequential(new Identity(), new ReLU());
      expect(await values(s.forward(tensor([-1, 2])))).toEqual([0, 2]);
      expect(s.length).toBe(2);
      expect(s.at(-1)).toBeInstanceOf(ReLU);
      expect(() => s.at(2)).toThrow(IndexError);
      s.append(new Linear(2, 1));
      expect([...s.namedParameters()].map(([k]) => k)).toEqual(['2.weight', '2.bias']);
      expect([...s].length).toBe(3);
    });

    it('containers: ModuleList registers its items and prints repeats as torch', () => {
      class Net extends Module {
        layers = new ModuleList([new Linear(4, 4), new Linear(4, 4), new Linear(4, 4), new ReLU()]);
      }
      const n = new Net();
      expect([...n.namedParameters()].map(([k]) => k)).toEqual([
        'layers.0.weight',
        'layers.0.bias',
        'layers.1.weight',
        'layers.1.bias',
        'layers.2.weight',
        'layers.2.bias',
      ]);
      // torch >= 2.0: ModuleList.__repr__ folds runs of equal reprs.
      expect(String(n)).toBe(`Net(
  (layers): ModuleList(
    (0-2): 3 x Linear(in_features=4, out_features=4, bias=True)
    (3): ReLU()
  )
)`);
      n.layers.insert(0, new Identity());
      expect(n.layers.at(0)).toBeInstanceOf(Identity);
      expect(n.layers.length).toBe(5);
    });

    it('containers: ModuleDict keeps insertion order and its keys as given', () => {
      const d = new ModuleDict<Module>({ b: new Linear(1, 1), a: new Linear(1, 1, { bias: false }) });
      d.set('10', new ReLU());
      expect([...d.namedParameters()].map(([k]) => k)).toEqual(['b.weight', 'b.bias', 'a.weight']);
      expect([...d.keys()]).toEqual(['b', 'a', '10']);
      expect(d.get('a')).toBeInstanceOf(Linear);
      expect(() => d.get('zz')).toThrow(ValueError);
      expect(String(d)).toBe(`ModuleDict(
  (b): Linear(in_features=1, out_features=1, bias=True)
  (a): Linear(in_features=1, out_features=1, bias=False)
  (10): ReLU()
)`);
    });

    it("module: a custom module with mixed layers has torch's key order (params, buffers, children)", () => {
      class Block extends Module {
        scale = new Parameter(ones([4]));
        norm = new LayerNorm(4);
        emb = new Embedding(5, 4, { paddingIdx: 0 });
        bn = new BatchNorm1d(4);
      }
      expect([...new Block().stateDict().keys()]).toEqual([
        'scale',
        'norm.weight',
        'norm.bias',
        'emb.weight',
        'bn.weight',
        'bn.bias',
        'bn.running_mean',
        'bn.running_var',
        'bn.num_batches_tracked',
      ]);
      expect(String(new Block())).toBe(`Block(
  (norm): LayerNorm((4,), eps=1e-05, elementwise_affine=True)
  (emb): Embedding(5, 4, padding_idx=0)
  (bn): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
)`);
    });
  });
}

describe('nn.Module across backends', () => {
  it('module: loadStateDict copies tensors that live on another (synchronous) backend', async () => {
    if (BACKENDS.length < 2) return;
    const [ref, other] = [BACKENDS[0]!, BACKENDS[1]!];
    setDefaultBackend(other);
    const l = new Linear(2, 1);
    l.loadStateDict({ weight: tensor([[1, 2]], { backend: ref }), bias: tensor([3], { backend: ref }) });
    expect(l.weight.backend).toBe(other);
    expect(await values(l.weight)).toEqual([1, 2]);
    expect(await values(l.bias!)).toEqual([3]);
  });

  it('module: parameters and buffers made inside tidy survive the scope', async () => {
    const { tidy } = await import('../../runtime/memory.ts');
    setDefaultBackend(BACKENDS[0]!);
    const bn = tidy(() => new BatchNorm1d(2));
    const l = tidy(() => new Linear(2, 2));
    expect(l.weight.isDisposed).toBe(false);
    expect(bn.runningMean!.isDisposed).toBe(false);
    expect(l.forward(ones([1, 2])).shape).toEqual([1, 2]);
  });
});

describe('nn.Module dtype conversion', () => {
  it('module: to(float64) converts floating parameters and buffers, not integer buffers', async () => {
    setDefaultBackend(BACKENDS[0]!);
    const m = new Sequential(new Linear(2, 3), new BatchNorm1d(3));
    const w = await values(m.at(0).parameters()[0]!);
    expect(m.to('float64')).toBe(m);
    expect(m.parameters().every((p) => p.dtype === 'float64' && p.requiresGrad && isParameter(p))).toBe(true);
    const bn = m.at(1) as BatchNorm1d;
    expect(bn.runningMean!.dtype).toBe('float64');
    expect(bn.numBatchesTracked!.dtype).toBe('int32');
    expect([...m.namedBuffers()].map(([k]) => k)).toEqual(['1.running_mean', '1.running_var', '1.num_batches_tracked']);
    expectNearLocal(await values(m.at(0).parameters()[0]!), w);
    expect(
      m.forward(
        tensor(
          [
            [1, 2],
            [3, 4],
          ],
          { dtype: 'float64' },
        ),
      ).dtype,
    ).toBe('float64');
    expect(() => m.to('int32')).toThrow(ValueError);
  });
});

function expectNearLocal(a: number[], b: number[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(1e-7));
}
