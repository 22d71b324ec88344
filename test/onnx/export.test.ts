/**
 * @module onnx/export.test — `module.toOnnx`: the seed autoencoder, its encoder alone, a CNN
 * classifier and a model covering the other exportable ops, each run in onnxruntime-node at
 * two batch sizes through one dynamic-batch model and compared with our forward, and checked
 * by onnx.checker (full_check); unsupported ops and bad options as typed errors.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodePlatform } from '../../bindings/node.ts';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { ValueError } from '../../runtime/errors.ts';
import { decodeOnnx } from '../../runtime/io/onnx.ts';
import {
  AdaptiveAvgPool2d,
  BatchNorm1d,
  Conv2d,
  GELU,
  LayerNorm,
  LeakyReLU,
  Linear,
  Module,
  OnnxExportError,
  ReLU,
  Sequential,
  SiLU,
  Sigmoid,
  Softmax,
  Tanh,
} from '../../runtime/nn/index.ts';
import * as F from '../../runtime/nn/functional.ts';
import { setPlatform } from '../../runtime/platform.ts';
import { manualSeed } from '../../runtime/random.ts';
import { randint, randn, traceOp, withTracer, type Tensor } from '../../runtime/tensor/index.ts';
import { expectClose } from '../helpers/tolerance.ts';
import { checkerIt, checkOnnx, ONNX_TOLERANCE, ortIt, runOrt } from './helpers.ts';
import { cnn, Embed, LitAutoEncoder, Pools } from './models.ts';

const DYNAMIC = { input: { 0: 'batch' }, output: { 0: 'batch' } } as const;

/** The other exportable ops: activations, norms, reductions, views, elementwise maths. */
class Zoo extends Module {
  proj = new Linear(8, 8);
  norm = new LayerNorm(8);
  bn = new BatchNorm1d(8);
  acts = new Sequential(new LeakyReLU(0.1), new GELU(), new GELU({ approximate: 'tanh' }), new SiLU());
  head = new Sequential(new Tanh(), new Sigmoid(), new Softmax(-1));
  forward(x: Tensor): Tensor {
    // x: [N, 3, 8]; a 3-D Linear exports as MatMul + Add
    let y = this.norm.forward(this.proj.forward(x));
    y = this.acts.forward(F.elu(y, 0.7));
    y = y
      .add(F.softplus(y, { beta: 2 }))
      .sub(y.abs().sqrt())
      .mul(y.neg().exp())
      .div(y.square().add(1));
    y = y
      .maximum(y.permute(0, 2, 1).transpose(1, 2).mul(0.5))
      .minimum(3)
      .clamp(-2, 2.5);
    y = y.pow(2).add(y.mean(-1, true)).add(y.sum(1, true).log().abs());
    const z = this.bn.forward(y.reshape([-1, 8])).view([x.shape[0]!, 3, 8]);
    const logits = z.matmul(z.transpose(1, 2)).slice(2, 0, 2).expand([x.shape[0]!, 3, 2]);
    return this.head.forward(logits.flatten(1));
  }
}

async function ours(model: Module & { forward(x: Tensor): Tensor }, x: Tensor): Promise<Float32Array> {
  model.eval();
  return new Float32Array(await model.forward(x).data());
}

/** Runs the model in onnxruntime on inputs of two batch sizes and compares each with our forward. */
async function compareInOrt(
  model: Module & { forward(x: Tensor): Tensor },
  bytes: Uint8Array,
  makeInput: (batch: number) => Tensor,
  batches: readonly number[],
): Promise<void> {
  for (const n of batches) {
    const x = makeInput(n);
    const want = await ours(model, x);
    const data = await x.data();
    const feed = x.dtype === 'int32' ? new Int32Array(data) : new Float32Array(data);
    const got = await runOrt(bytes, { input: { data: feed, dims: x.shape } });
    const out = got['output']!;
    expect(out.dims[0]).toBe(n);
    expectClose(Array.from(out.data), want, ONNX_TOLERANCE, `onnxruntime vs forward, batch ${n}`);
  }
}

describe('toOnnx', () => {
  let model: LitAutoEncoder;
  let classifier: Sequential;
  let bytes: { auto: Uint8Array; encoder: Uint8Array; cnn: Uint8Array; zoo: Uint8Array; pools: Uint8Array };

  beforeAll(async () => {
    setDefaultBackend(createReferenceBackend());
    manualSeed(0);
    model = new LitAutoEncoder();
    classifier = cnn();
    bytes = {
      auto: await model.toOnnx(randn([4, 784]), { dynamicAxes: DYNAMIC }),
      encoder: await model.encoder.toOnnx(randn([4, 784]), { dynamicAxes: DYNAMIC }),
      cnn: await classifier.toOnnx(randn([3, 1, 12, 12]), { dynamicAxes: DYNAMIC }),
      zoo: await new Zoo().toOnnx(randn([4, 3, 8]), { dynamicAxes: DYNAMIC }),
      pools: await new Pools().toOnnx(randn([2, 2, 8, 8]), { dynamicAxes: DYNAMIC }),
    };
  });

  it('toOnnx: the autoencoder is Gemm/Relu nodes with the state-dict keys as initializers and a dynamic batch', () => {
    const m = decodeOnnx(bytes.auto);
    expect(m.irVersion).toBe(8);
    expect(m.opsetImports).toEqual([{ domain: '', version: 17 }]);
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm', 'Gemm', 'Relu', 'Gemm']);
    expect(m.graph.initializers.map((t) => t.name).sort()).toEqual([...model.stateDict().keys()].sort());
    expect(m.graph.inputs).toEqual([{ name: 'input', elemType: 1, shape: ['batch', 784] }]);
    expect(m.graph.outputs).toEqual([{ name: 'output', elemType: 1, shape: ['batch', 784] }]);
    expect(m.graph.nodes[0]!.name).toBe('/encoder.0/Gemm_0');
    const enc = decodeOnnx(bytes.encoder);
    expect(enc.graph.initializers.map((t) => t.name).sort()).toEqual(['0.bias', '0.weight', '2.bias', '2.weight']);
  });

  it('toOnnx: initializers hold the parameters bit for bit (float32 little-endian raw data)', async () => {
    const m = decodeOnnx(bytes.auto);
    const w = m.graph.initializers.find((t) => t.name === 'decoder.2.weight')!;
    expect(w.dims).toEqual([784, 64]);
    const raw = new Float32Array(w.rawData.slice().buffer);
    expect(raw).toEqual(new Float32Array(await model.decoder.getSubmodule('2').stateDict().get('weight')!.data()));
  });

  it('toOnnx: the CNN exports Conv, MaxPool, BatchNormalization, a batch-agnostic Reshape and LogSoftmax; Dropout leaves no node', () => {
    const ops = decodeOnnx(bytes.cnn).graph.nodes.map((n) => n.opType);
    expect(ops).toEqual(['Conv', 'Relu', 'MaxPool', 'BatchNormalization', 'Reshape', 'Gemm', 'LogSoftmax']);
    const shape = decodeOnnx(bytes.cnn).graph.initializers.find((t) => t.dims.length === 1 && t.dataType === 7)!;
    expect(Array.from(new BigInt64Array(shape.rawData.slice().buffer))).toEqual([0n, 144n]);
  });

  it('toOnnx: training mode and the modules’ forward methods are restored after the trace', () => {
    model.train();
    return model.toOnnx(randn([2, 784])).then(() => {
      expect([...model.modules()].every((m) => m.training)).toBe(true);
      expect(Object.getOwnPropertyNames(model.encoder)).not.toContain('forward');
    });
  });

  it('toOnnx: with a path it writes the same bytes through the platform writeFile', async () => {
    setPlatform(nodePlatform);
    const dir = mkdtempSync(join(tmpdir(), 'onnx-export-'));
    try {
      const path = join(dir, 'encoder.onnx');
      const written = await model.encoder.toOnnx(randn([1, 784]), { path });
      expect(new Uint8Array(readFileSync(path))).toEqual(written);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  ortIt('toOnnx: onnxruntime runs the autoencoder at batch 4 and 9 like our forward', async () => {
    await compareInOrt(model, bytes.auto, (n) => randn([n, 784]), [4, 9]);
  });

  ortIt('toOnnx: onnxruntime runs the encoder alone at batch 1 and 5 like our forward', async () => {
    await compareInOrt(model.encoder, bytes.encoder, (n) => randn([n, 784]), [1, 5]);
  });

  ortIt('toOnnx: onnxruntime runs the CNN classifier at batch 3 and 7 like our forward', async () => {
    await compareInOrt(classifier, bytes.cnn, (n) => randn([n, 1, 12, 12]), [3, 7]);
  });

  ortIt('toOnnx: onnxruntime runs the op zoo (activations, norms, reductions, views) at batch 4 and 6', async () => {
    const zoo = new Zoo();
    await compareInOrt(
      zoo,
      await zoo.toOnnx(randn([4, 3, 8]), { dynamicAxes: DYNAMIC }),
      (n) => randn([n, 3, 8]),
      [4, 6],
    );
  });

  ortIt(
    'toOnnx: onnxruntime runs strided, grouped and "same" convolutions and the pools at batch 2 and 5',
    async () => {
      const pools = new Pools();
      const b = await pools.toOnnx(randn([2, 2, 8, 8]), { dynamicAxes: DYNAMIC });
      await compareInOrt(pools, b, (n) => randn([n, 2, 8, 8]), [2, 5]);
    },
  );

  ortIt('toOnnx: an Embedding exports as Gather over int32 indices', async () => {
    const m = new Embed();
    const b = await m.toOnnx(randint(0, 10, [2, 5], { dtype: 'int32' }), { dynamicAxes: DYNAMIC });
    expect(decodeOnnx(b).graph.nodes[0]!.opType).toBe('Gather');
    await compareInOrt(m, b, (n) => randint(0, 10, [n, 5], { dtype: 'int32' }), [2, 3]);
  });

  ortIt('toOnnx: opsets 18 (reduce axes as inputs) and 20 (Gelu) run in onnxruntime too', async () => {
    const zoo = new Zoo();
    for (const opsetVersion of [18, 20]) {
      const b = await zoo.toOnnx(randn([4, 3, 8]), { dynamicAxes: DYNAMIC, opsetVersion });
      const m = decodeOnnx(b);
      expect(m.opsetImports[0]!.version).toBe(opsetVersion);
      expect(m.graph.nodes.some((n) => n.opType === 'Gelu')).toBe(opsetVersion === 20);
      await compareInOrt(zoo, b, (n) => randn([n, 3, 8]), [4, 2]);
    }
  });

  checkerIt('toOnnx: onnx.checker (full_check) accepts every exported model', () => {
    for (const [name, b] of Object.entries(bytes)) {
      const r = checkOnnx(b);
      expect({ name, ok: r.ok, error: r.error }).toEqual({ name, ok: true, error: null });
      expect(r.opset).toEqual([17]);
      expect(r.inputs[0]![1][0]).toBe('batch');
    }
    expect(checkOnnx(bytes.auto).initializers).toContain('encoder.0.weight');
  });

  it('toOnnx: an op without an ONNX export is an OnnxExportError naming the op and the module path', async () => {
    class Patches extends Module {
      forward(x: Tensor): Tensor {
        return F.unfold(x, 2);
      }
    }
    const net = new Sequential(new Conv2d(1, 2, 3), new Sequential(new ReLU(), new Patches()));
    const err = await net.toOnnx(randn([1, 1, 6, 6])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxExportError);
    expect((err as OnnxExportError).op).toBe('unfold');
    expect((err as OnnxExportError).modulePath).toBe('1.1');
    expect((err as Error).message).toMatch(/^toOnnx: op 'unfold' in module '1\.1' \(Patches\) cannot be exported/);
    expect(Object.getOwnPropertyNames(net.getSubmodule('1.1'))).not.toContain('forward');
  });

  it('toOnnx: AdaptiveAvgPool2d with unequal windows is an OnnxExportError naming it', async () => {
    const net = new Sequential(new AdaptiveAvgPool2d([3, 3]));
    const err = await net.toOnnx(randn([1, 1, 7, 7])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxExportError);
    expect((err as OnnxExportError).op).toBe('adaptive_avg_pool2d');
    expect((err as OnnxExportError).modulePath).toBe('0');
  });

  it('toOnnx: bad options are ValueErrors: an unknown opset, a dynamicAxes name, an axis past the rank, too many names', async () => {
    const enc = model.encoder;
    const x = randn([2, 784]);
    await expect(enc.toOnnx(x, { opsetVersion: 12 })).rejects.toThrow(ValueError);
    await expect(enc.toOnnx(x, { opsetVersion: 12 })).rejects.toThrow(
      /unsupported opsetVersion; expected one of 17, 18, 19, 20, got 12/,
    );
    await expect(enc.toOnnx(x, { dynamicAxes: { images: { 0: 'batch' } } })).rejects.toThrow(
      /dynamicAxes names an unknown input or output.*got 'images'/,
    );
    await expect(enc.toOnnx(x, { dynamicAxes: { input: { 2: 'batch' } } })).rejects.toThrow(ValueError);
    await expect(enc.toOnnx(x, { inputNames: ['a', 'b'] })).rejects.toThrow(ValueError);
    await expect(enc.toOnnx(x, { inputNames: ['x'], outputNames: ['x'] })).rejects.toThrow(ValueError);
  });

  it('toOnnx: input and output names and list-style dynamic axes are used as given', () => {
    return model.encoder
      .toOnnx(randn([2, 784]), { inputNames: ['images'], outputNames: ['z'], dynamicAxes: { images: [0], z: [0] } })
      .then((b) => {
        const g = decodeOnnx(b).graph;
        expect(g.inputs[0]).toEqual({ name: 'images', elemType: 1, shape: ['images_dynamic_axes_1', 784] });
        expect(g.outputs[0]!.name).toBe('z');
        expect(g.nodes.at(-1)!.outputs).toEqual(['z']);
      });
  });

  it('trace: withTracer sees each op once, restores the previous tracer after a throw, and traceOp is inert without one', () => {
    const seen: string[] = [];
    const x = randn([2, 3]);
    expect(() =>
      withTracer({ record: (op) => seen.push(op.op) }, () => {
        x.relu().softmax(1);
        throw new RangeError('boom');
      }),
    ).toThrow(RangeError);
    expect(seen[0]).toBe('relu');
    expect(seen.at(-1)).toBe('softmax');
    const before = seen.length;
    x.relu();
    expect(seen.length).toBe(before);
    expect(traceOp('relu', x, [x])).toBe(x);
  });
});
