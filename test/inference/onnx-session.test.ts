/**
 * @module inference/onnx-session.test — OnnxSession runs our own `toOnnx` exports (the seed
 * autoencoder, its encoder, a CNN, an op zoo, convolutions and pools, an embedding; opsets 17,
 * 18 and 20) like the modules' forward, on every available backend; crafted graphs cover the
 * other operators and attribute forms; unsupported operators and attributes, bad feeds, files
 * that ask for too much and malformed graphs are typed errors that name the node or input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../runtime/backend.ts';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { FormatError, LimitError } from '../../runtime/io/errors.ts';
import {
  encodeOnnx,
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from '../../runtime/io/onnx.ts';
import { OnnxInputError, OnnxNodeError, OnnxUnsupportedError } from '../../runtime/inference/onnx-errors.ts';
import { SUPPORTED_ONNX_OPS } from '../../runtime/inference/onnx-ops.ts';
import { OnnxSession } from '../../runtime/inference/onnx-session.ts';
import { liveBuffers } from '../../runtime/memory.ts';
import {
  BatchNorm1d,
  GELU,
  LayerNorm,
  LeakyReLU,
  Linear,
  Module,
  Sequential,
  SiLU,
  Sigmoid,
  Softmax,
  Tanh,
} from '../../runtime/nn/index.ts';
import * as F from '../../runtime/nn/functional.ts';
import { manualSeed } from '../../runtime/random.ts';
import { cat, randint, randn, Tensor, tensor } from '../../runtime/tensor/index.ts';
import { availableBackends } from '../helpers/backends.ts';
import { expectClose } from '../helpers/tolerance.ts';
import { cnn, Embed, LitAutoEncoder, Pools } from '../onnx/models.ts';

/** Our forward vs the interpreter on the same export: |diff| <= atol + rtol·|forward|. */
const TOLERANCE = { rtol: 1e-5, atol: 1e-5 } as const;
const DYNAMIC = { input: { 0: 'batch' }, output: { 0: 'batch' } } as const;

class Zoo extends Module {
  proj = new Linear(8, 8);
  norm = new LayerNorm(8);
  bn = new BatchNorm1d(8);
  acts = new Sequential(new LeakyReLU(0.1), new GELU(), new GELU({ approximate: 'tanh' }), new SiLU());
  head = new Sequential(new Tanh(), new Sigmoid(), new Softmax(-1));
  forward(x: Tensor): Tensor {
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
    const m = logits.max(-1, true).values.add(logits.logSumExp(-1, true)).add(logits.argmax(-1, true).float());
    return this.head.forward(cat([logits, m.ne(0).float().add(m)], 2).flatten(1));
  }
}

// ------------------------------------------------------------ crafted graphs

function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: OnnxAttribute[] = [],
  name = '',
): OnnxNode {
  return { opType, inputs, outputs, name, domain: '', attributes };
}
function ints(name: string, value: number[]): OnnxAttribute {
  return { name, type: 'ints', value };
}
function int(name: string, value: number): OnnxAttribute {
  return { name, type: 'int', value };
}
function i64(name: string, values: readonly (number | bigint)[], dims = [values.length]): OnnxTensor {
  const rawData = new Uint8Array(values.length * 8);
  const v = new DataView(rawData.buffer);
  values.forEach((x, i) => v.setBigInt64(i * 8, BigInt(x), true));
  return { name, dataType: 7, dims, rawData };
}
function f32(name: string, values: readonly number[], dims = [values.length]): OnnxTensor {
  return { name, dataType: 1, dims, rawData: new Uint8Array(new Float32Array(values).buffer) };
}
function info(name: string, shape: (number | string)[], elemType = 1): OnnxValueInfo {
  return { name, elemType, shape };
}
function graph(
  nodes: OnnxNode[],
  o: { inputs?: OnnxValueInfo[]; outputs?: OnnxValueInfo[]; initializers?: OnnxTensor[]; opset?: number } = {},
): Uint8Array {
  return encodeOnnx({
    irVersion: 8,
    opsetImports: [{ domain: '', version: o.opset ?? 17 }],
    producerName: 'test',
    producerVersion: '0',
    graph: {
      name: 'g',
      nodes,
      initializers: o.initializers ?? [],
      inputs: o.inputs ?? [info('x', ['batch', 4])],
      outputs: o.outputs ?? [info('y', [])],
    },
  });
}

async function values(t: Tensor | undefined): Promise<number[]> {
  return Array.from(await t!.data());
}

describe('OnnxSession', () => {
  let backends: Backend[] = [];
  let model: LitAutoEncoder;

  beforeAll(async () => {
    setDefaultBackend(createReferenceBackend());
    manualSeed(0);
    model = new LitAutoEncoder();
    backends = await availableBackends();
  });
  afterAll(() => {
    for (const b of backends) b.dispose();
  });

  /** Exports `m` once, then compares our forward with the interpreter at each batch size on every backend. */
  async function compare(
    m: Module & { forward(x: Tensor): Tensor },
    makeInput: (batch: number) => Tensor,
    batches: readonly number[],
    opsetVersion = 17,
  ): Promise<void> {
    m.eval();
    const bytes = await m.toOnnx(makeInput(batches[0]!), { dynamicAxes: DYNAMIC, opsetVersion });
    for (const backend of backends) {
      const session = await OnnxSession.create(bytes, { backend });
      const before = liveBuffers(backend).liveBuffers;
      for (const n of batches) {
        const x = makeInput(n);
        const want = await m.forward(x).data();
        const fed = Tensor.fromArray(backend, x.dtype, x.shape, await x.data());
        const { output } = await session.run({ input: fed });
        expectClose(
          await values(output),
          want,
          TOLERANCE,
          `${m.constructor.name} opset ${opsetVersion} batch ${n} on ${backend.name}`,
        );
        output!.dispose();
        fed.dispose();
      }
      expect(liveBuffers(backend).liveBuffers).toBe(before);
      session.dispose();
    }
  }

  it('OnnxSession: runs the exported seed autoencoder like forward at batch 4 and 9, on every backend', async () => {
    await compare(model, (n) => randn([n, 784]), [4, 9]);
  });

  it('OnnxSession: runs the encoder alone (inputNames, outputNames, declared shapes with dim_params)', async () => {
    const bytes = await model.encoder.toOnnx(randn([2, 784]), { dynamicAxes: DYNAMIC });
    const session = await OnnxSession.create(bytes);
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['output']);
    expect(session.inputs).toEqual([{ name: 'input', elemType: 1, shape: ['batch', 784] }]);
    expect(session.opset).toBe(17);
    await compare(model.encoder, (n) => randn([n, 784]), [1, 5]);
  });

  it('OnnxSession: runs the exported CNN (Conv, MaxPool, BatchNormalization, Reshape, Gemm, LogSoftmax)', async () => {
    await compare(cnn(), (n) => randn([n, 1, 12, 12]), [3, 7]);
  });

  it('OnnxSession: runs the op zoo at opsets 17, 18 (axes as inputs) and 20 (Gelu)', async () => {
    const zoo = new Zoo();
    for (const opset of [17, 18, 20]) await compare(zoo, (n) => randn([n, 3, 8]), [4, 6], opset);
  });

  it('OnnxSession: runs strided, grouped and "same" convolutions and the pools', async () => {
    await compare(new Pools(), (n) => randn([n, 2, 8, 8]), [2, 5]);
  });

  it('OnnxSession: runs an Embedding (Gather over int32 indices)', async () => {
    await compare(new Embed(), (n) => randint(0, 10, [n, 5], { dtype: 'int32' }), [2, 3]);
  });

  it('OnnxSession: crafted graphs cover the other operators and attribute forms', async () => {
    const x = tensor([
      [1, -2, 3, -4],
      [0.5, 2, -1, 0],
    ]);
    const nodes = [
      node(
        'Gemm',
        ['x', 'w', 'c'],
        ['g'],
        [int('transA', 1), { name: 'alpha', type: 'float', value: 2 }, { name: 'beta', type: 'float', value: 0.5 }],
      ),
      node('Max', ['x', 'half', 'neg'], ['mx']),
      node('Min', ['x', 'half'], ['mn']),
      node('Gather', ['x', 'idx'], ['ga'], [int('axis', 1)]),
      node('GatherElements', ['x', 'idx2'], ['ge'], [int('axis', 1)]),
      node('Less', ['x', 'half'], ['lt']),
      node('Not', ['lt'], ['nl']),
      node('Cast', ['nl'], ['nlf'], [int('to', 1)]),
      node('ArgMin', ['x'], ['am'], [int('axis', 1), int('keepdims', 0)]),
      node('Cast', ['am'], ['amf'], [int('to', 1)]),
      node('Shape', ['x'], ['sh'], [int('start', -1)]),
      node('Cast', ['sh'], ['shf'], [int('to', 1)]),
      node('Slice', ['x', 'zero', 'big'], ['sl']),
      node('Squeeze', ['one_row'], ['sq']),
      node('Flatten', ['x'], ['fl'], [int('axis', 0)]),
      node('ReduceSum', ['x', 'empty'], ['rs'], [int('noop_with_empty_axes', 1)]),
      node('Sign', ['x'], ['sg']),
      node('Dropout', ['x'], ['dr']),
      node('Constant', [], ['k'], [{ name: 'value_floats', type: 'floats', value: [10, 20, 30, 40] }]),
      node('Add', ['dr', 'k'], ['y']),
    ];
    const outputs = ['g', 'mx', 'mn', 'ga', 'ge', 'nlf', 'amf', 'shf', 'sl', 'sq', 'fl', 'rs', 'sg', 'y'];
    const bytes = graph(nodes, {
      inputs: [info('x', [2, 4])],
      outputs: outputs.map((n) => info(n, [])),
      initializers: [
        f32('w', [1, 2, 3, 4], [2, 2]),
        f32('c', [1, -1], [2]),
        f32('half', [0.5]),
        f32('neg', [-3, 0, 5, -9]),
        i64('idx', [-1, 0], [2]),
        i64('idx2', [3, 0, -1, 1], [2, 2]),
        i64('zero', [0]),
        i64('big', [2n ** 63n - 1n]),
        f32('one_row', [7, 8, 9], [1, 3, 1]),
        i64('empty', [], [0]),
      ],
    });
    const session = await OnnxSession.create(bytes);
    expect(session.outputNames).toEqual(outputs);
    const r = await session.run({ x });
    // Gemm: 2·xᵀ·w + 0.5·c, with xᵀ [4, 2] · w [2, 2]
    expect(await values(r.g)).toEqual([5.5, 7.5, 8.5, 7.5, 0.5, 3.5, -7.5, -16.5]);
    expect(await values(r.mx)).toEqual([1, 0.5, 5, 0.5, 0.5, 2, 5, 0.5]);
    expect(await values(r.mn)).toEqual([0.5, -2, 0.5, -4, 0.5, 0.5, -1, 0]);
    expect(r.ga!.shape).toEqual([2, 2]);
    expect(await values(r.ga)).toEqual([-4, 1, 0, 0.5]);
    expect(await values(r.ge)).toEqual([-4, 1, 0, 2]);
    expect(await values(r.nlf)).toEqual([1, 0, 1, 0, 1, 1, 0, 0]);
    expect(await values(r.amf)).toEqual([3, 2]);
    expect(await values(r.shf)).toEqual([4]);
    expect(await values(r.sl)).toEqual(await values(x));
    expect(r.sq!.shape).toEqual([3]);
    expect(r.fl!.shape).toEqual([1, 8]);
    expect(r.rs!.shape).toEqual([2, 4]);
    expect(await values(r.sg)).toEqual([1, -1, 1, -1, 1, 1, -1, 0]);
    expect(await values(r.y)).toEqual([11, 18, 33, 36, 10.5, 22, 29, 40]);
    for (const t of Object.values(r)) t.dispose();
  });

  it('OnnxSession: Erf matches the Gelu identity and Clip, Where, Pow, Div (integer), Unsqueeze, Expand, ConstantOfShape run', async () => {
    const nodes = [
      node('Erf', ['x'], ['erf']),
      node('Clip', ['x', '', 'hi'], ['clip']),
      node('Greater', ['x', 'zero'], ['pos']),
      node('Where', ['pos', 'x', 'zero'], ['relu']),
      node('Pow', ['x', 'two'], ['sq']),
      node('Div', ['seven', 'two_i'], ['q']),
      node('Unsqueeze', ['x', 'ax'], ['u']),
      node('Expand', ['u', 'shape'], ['ex']),
      node('ConstantOfShape', ['shape'], ['ones'], [{ name: 'value', type: 'tensor', value: f32('', [1], [1]) }]),
    ];
    const bytes = graph(nodes, {
      inputs: [info('x', [4])],
      outputs: ['erf', 'clip', 'relu', 'sq', 'q', 'ex', 'ones'].map((n) => info(n, [])),
      initializers: [
        f32('hi', [0.5], []),
        f32('zero', [0], []),
        i64('two', [2], []),
        i64('seven', [7, -7]),
        i64('two_i', [2], []),
        i64('ax', [0]),
        i64('shape', [3, 4]),
      ],
    });
    const session = await OnnxSession.create(bytes);
    const r = await session.run({ x: tensor([-1.5, 0, 0.3, 2]) });
    const erf = [-0.9661051464753108, 0, 0.3286267594591112, 0.9953222650189527];
    expectClose(await values(r.erf), erf, { rtol: 1e-6, atol: 1e-7 }, 'Erf');
    expect(await values(r.clip)).toEqual([-1.5, 0, 0.30000001192092896, 0.5]);
    expect(await values(r.relu)).toEqual([0, 0, 0.30000001192092896, 2]);
    expectClose(await values(r.sq), [2.25, 0, 0.09, 4], { rtol: 1e-6, atol: 0 }, 'Pow');
    expect(await values(r.q)).toEqual([3, -3]);
    expect(r.ex!.shape).toEqual([3, 4]);
    expect(await values(r.ones)).toEqual(new Array(12).fill(1));
    for (const t of Object.values(r)) t.dispose();
  });

  it('OnnxSession: an operator outside the set is an OnnxUnsupportedError naming it and the node, at create', async () => {
    const bytes = graph([node('Relu', ['x'], ['r'], [], 'first'), node('TopK', ['r', 'k'], ['y'], [], 'top')], {
      initializers: [i64('k', [1])],
    });
    const err = await OnnxSession.create(bytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxUnsupportedError);
    expect(err).toMatchObject({ opType: 'TopK', nodeName: 'top', nodeIndex: 1, attribute: null });
    expect((err as Error).message).toMatch(
      /^onnx: operator 'TopK' is not supported \(node 'top' \(#1\)\); expected one of Abs, Add, /,
    );
    // The operators toOnnx writes (nn/onnx-export.ts), and those torch wrote for the fixtures.
    const table =
      'Gemm MatMul Add Sub Mul Div Pow Neg Abs Sign Sqrt Exp Log Max Min Clip Relu Sigmoid Tanh LeakyRelu Elu Gelu Erf Softplus Equal Less LessOrEqual Greater GreaterOrEqual Not Where Cast Reshape Transpose Slice Expand Identity Squeeze Unsqueeze Flatten Concat Gather GatherElements ReduceSum ReduceMean ReduceMax ReduceMin ReduceLogSumExp ArgMax ArgMin Softmax LogSoftmax Conv MaxPool AveragePool GlobalAveragePool BatchNormalization LayerNormalization Constant Shape ConstantOfShape Dropout';
    expect([...SUPPORTED_ONNX_OPS].sort()).toEqual(table.split(' ').sort());
  });

  it('OnnxSession: an unsupported attribute or attribute value is an OnnxUnsupportedError naming the attribute', async () => {
    const cases: [OnnxNode, string, RegExp][] = [
      [
        node('Relu', ['x'], ['y'], [int('alpha', 1)], 'r'),
        'alpha',
        /unsupported attribute 'alpha' of Relu at node 'r' \(#0\); expected no attributes/,
      ],
      [node('ArgMax', ['x'], ['y'], [int('select_last_index', 1)]), 'select_last_index', /expected 0, got 1/],
      [
        node('Softmax', ['x'], ['y'], [{ name: 'axis', type: 'float', value: 1 }]),
        'axis',
        /expected an attribute of type int, got float/,
      ],
      [node('Cast', ['x'], ['y'], [int('to', 10)]), 'to', /of Cast at node #0; expected float \(1\), int32 \(6\)/],
    ];
    for (const [n, attribute, message] of cases) {
      const err = await OnnxSession.create(graph([n])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OnnxUnsupportedError);
      expect((err as OnnxUnsupportedError).attribute).toBe(attribute);
      expect((err as Error).message).toMatch(message);
    }
    const conv = node('Conv', ['img', 'w'], ['y'], [ints('pads', [0, 0, 1, 1])], 'c');
    const err = await OnnxSession.create(
      graph([conv], { inputs: [info('img', [1, 1, 4, 4])], initializers: [f32('w', [1], [1, 1, 1, 1])] }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ attribute: 'pads', nodeName: 'c' });
    expect((err as Error).message).toMatch(/expected symmetric pads/);
    const op12 = await OnnxSession.create(graph([node('Relu', ['x'], ['y'])], { opset: 12 })).catch((e: unknown) => e);
    expect(op12).toBeInstanceOf(OnnxUnsupportedError);
    expect((op12 as Error).message).toMatch(/expected a default-domain opset from 13 to 20, got 12/);
  });

  it('OnnxSession: a feed that does not fit the declared inputs is an OnnxInputError naming it, dim_params by name', async () => {
    const bytes = await model.encoder.toOnnx(randn([2, 784]), { dynamicAxes: DYNAMIC });
    const session = await OnnxSession.create(bytes);
    const run = (feeds: Record<string, Tensor>): Promise<unknown> => session.run(feeds).catch((e: unknown) => e);
    const shape = await run({ input: randn([2, 783]) });
    expect(shape).toBeInstanceOf(OnnxInputError);
    expect(shape).toMatchObject({ input: 'input', expected: '[batch, 784]', got: '[2,783]' });
    expect((shape as Error).message).toBe(
      "OnnxSession.run: input 'input' has the wrong shape; expected [batch, 784], got [2,783]",
    );
    expect(((await run({ input: randn([784]) })) as Error).message).toMatch(
      /has the wrong rank; expected \[batch, 784\]/,
    );
    expect(((await run({ input: randint(0, 2, [2, 784], { dtype: 'int32' }) })) as Error).message).toMatch(
      /has the wrong dtype; expected float32, got int32/,
    );
    expect(((await run({})) as Error).message).toMatch(
      /input 'input' is missing; expected a tensor of shape \[batch, 784\]/,
    );
    expect(((await run({ input: randn([1, 784]), images: randn([1]) })) as Error).message).toMatch(
      /input 'images' is not an input of the graph; expected one of 'input'/,
    );
    const wasm = backends.find((b) => b.name !== 'reference');
    if (wasm !== undefined) {
      const other = Tensor.fromArray(wasm, 'float32', [1, 784], new Float32Array(784));
      expect(((await run({ input: other })) as Error).message).toMatch(/is on another backend/);
    }
    const two = graph([node('Add', ['a', 'b'], ['y'])], { inputs: [info('a', ['n', 3]), info('b', ['n', 3])] });
    const s2 = await OnnxSession.create(two);
    const err = await s2.run({ a: randn([2, 3]), b: randn([4, 3]) }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      "OnnxSession.run: input 'b' has the wrong shape; expected [n, 3] with n = 2 (from input 'a'), got [4,3]",
    );
  });

  it('OnnxSession: Expand, ConstantOfShape and MatMul past maxElements are LimitErrors before anything is allocated', async () => {
    const huge = graph([node('Expand', ['x', 'shape'], ['y'], [], 'blow')], {
      initializers: [i64('shape', [2 ** 20, 2 ** 20, 4])],
    });
    const session = await OnnxSession.create(huge);
    const x = randn([1, 4]);
    const before = liveBuffers().liveBuffers;
    const err = await session.run({ x }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).limit).toBe('maxElements');
    expect((err as Error).message).toMatch(
      /^onnx: the output of Expand at node 'blow' \(#0\) exceeds the maxElements limit/,
    );
    expect(liveBuffers().liveBuffers).toBe(before);
    const fill = graph([node('ConstantOfShape', ['shape'], ['y'])], {
      initializers: [i64('shape', [2 ** 16, 2 ** 16])],
    });
    await expect((await OnnxSession.create(fill)).run({ x })).rejects.toThrow(LimitError);
    const small = await OnnxSession.create(await model.encoder.toOnnx(randn([2, 784])), { maxElements: 100 });
    await expect(small.run({ input: randn([2, 784]) })).rejects.toThrow(
      /maxElements limit; expected at most 100 elements/,
    );
    const work = await OnnxSession.create(await model.encoder.toOnnx(randn([2, 784])), { maxMultiplyAdds: 1000 });
    await expect(work.run({ input: randn([2, 784]) })).rejects.toThrow(/maxMultiplyAdds/);
  });

  it('OnnxSession: a node that fails is an OnnxNodeError naming it, with the tensor error as cause; nothing leaks', async () => {
    const bytes = graph([node('Relu', ['x'], ['r']), node('Reshape', ['r', 'shape'], ['y'], [], 'bad')], {
      initializers: [i64('shape', [3, -1])],
    });
    const session = await OnnxSession.create(bytes);
    const x = randn([2, 4]);
    const before = liveBuffers().liveBuffers;
    const err = await session.run({ x }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxNodeError);
    expect(err).toMatchObject({ opType: 'Reshape', nodeName: 'bad', nodeIndex: 1 });
    expect((err as Error).message).toMatch(/^onnx: Reshape at node 'bad' \(#1\) failed: reshape: shape is invalid/);
    expect((err as Error).cause).toBeInstanceOf(Error);
    expect(liveBuffers().liveBuffers).toBe(before);
  });

  it('OnnxSession: an int64 constant past the int32 range works as a Slice bound and fails by name on the device', async () => {
    const bytes = graph([node('Add', ['x', 'big'], ['y'])], {
      inputs: [info('x', ['batch', 4], 7)],
      initializers: [i64('big', [2n ** 40n])],
    });
    const err = await (await OnnxSession.create(bytes))
      .run({ x: randint(0, 3, [2, 4], { dtype: 'int32' }) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxNodeError);
    expect((err as Error).message).toMatch(/int64 constant 'big' is outside the int32 range/);
  });

  it('OnnxSession: malformed graphs are FormatErrors (an undefined name, a redefinition, bytes that are not ONNX)', async () => {
    await expect(OnnxSession.create(graph([node('Relu', ['nope'], ['y'])]))).rejects.toThrow(
      /Relu at node #0 reads 'nope' before any node, input or initializer defines it/,
    );
    await expect(OnnxSession.create(graph([node('Relu', ['x'], ['x'])]))).rejects.toThrow(FormatError);
    await expect(OnnxSession.create(graph([node('Relu', ['x'], ['r'])]))).rejects.toThrow(
      /graph output 'y' is never defined/,
    );
    await expect(OnnxSession.create(new Uint8Array([0x0a, 0xff, 0xff]))).rejects.toThrow(FormatError);
    const bytes = await model.encoder.toOnnx(randn([1, 784]));
    await expect(OnnxSession.create(bytes.subarray(0, 5000))).rejects.toThrow(FormatError);
  });

  it('OnnxSession: outputs that are initializers or feeds come back as views; dispose frees the weights', async () => {
    const bytes = graph([], { outputs: [info('w', [2]), info('x', [])], initializers: [f32('w', [1, 2])] });
    const backend = createReferenceBackend();
    const before = liveBuffers(backend).liveBuffers;
    const session = await OnnxSession.create(bytes, { backend });
    const x = Tensor.fromArray(backend, 'float32', [1, 4], new Float32Array(4));
    const r = await session.run({ x });
    r.w!.dispose();
    r.x!.dispose();
    expect(x.isDisposed).toBe(false);
    const again = await session.run({ x });
    expect(await values(again.w)).toEqual([1, 2]);
    again.w!.dispose();
    again.x!.dispose();
    x.dispose();
    session.dispose();
    expect(liveBuffers(backend).liveBuffers).toBe(before);
    await expect(session.run({ x })).rejects.toThrow(/the session is disposed/);
  });
});
