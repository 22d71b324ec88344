/**
 * @module onnx/decode.test — `encodeOnnx`/`decodeOnnx`: round trips of every field this
 * project writes, the typed-field tensors other writers use, and hostile bytes (truncation,
 * bad lengths, wrong wire types, deep subgraphs, oversized tensors) as typed errors only.
 */
import { describe, expect, it } from 'vitest';
import { FormatError, LimitError } from '../../runtime/io/errors.ts';
import { decodeOnnx, encodeOnnx, ONNX_DTYPE, type OnnxGraph, type OnnxModel } from '../../runtime/io/onnx.ts';
import { ProtoWriter } from '../../runtime/io/protobuf.ts';
import { manualSeed, defaultGenerator } from '../../runtime/random.ts';

const f32 = (xs: number[]): Uint8Array => new Uint8Array(new Float32Array(xs).buffer);

function model(graph: Partial<OnnxGraph> = {}): OnnxModel {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    producerName: 'lightning-ts',
    producerVersion: '0.1.0',
    graph: {
      name: 'g',
      nodes: [
        {
          opType: 'Gemm',
          inputs: ['input', 'w', ''],
          outputs: ['output'],
          name: '/0/Gemm_0',
          domain: '',
          attributes: [
            { name: 'transB', type: 'int', value: 1 },
            { name: 'alpha', type: 'float', value: 0.5 },
            { name: 'pads', type: 'ints', value: [0, -1, 3] },
            { name: 'mode', type: 'string', value: 'tanh' },
            { name: 'scales', type: 'floats', value: [0.25, 2] },
            { name: 'names', type: 'strings', value: ['a', 'é'] },
            { name: 't', type: 'tensor', value: { name: '', dataType: 1, dims: [2], rawData: f32([1, 2]) } },
          ],
        },
      ],
      initializers: [{ name: 'w', dataType: ONNX_DTYPE.float32, dims: [2, 3], rawData: f32([1, 2, 3, 4, 5, 6]) }],
      inputs: [{ name: 'input', elemType: 1, shape: ['batch', 3] }],
      outputs: [{ name: 'output', elemType: 1, shape: ['batch', 2] }],
      ...graph,
    },
  };
}

describe('onnx codec', () => {
  it('decodeOnnx: round-trips every field encodeOnnx writes, from any ArrayBufferView', () => {
    const m = model();
    const bytes = encodeOnnx(m);
    expect(decodeOnnx(bytes)).toEqual(m);
    // a view with other bytes around it (as a pooled Node Buffer)
    const padded = new Uint8Array(bytes.length + 10);
    padded.set(bytes, 5);
    expect(decodeOnnx(new DataView(padded.buffer, 5, bytes.length))).toEqual(m);
  });

  it('decodeOnnx: tensors in float_data, int64_data and int32_data come back as little-endian raw data', () => {
    const t1 = new ProtoWriter().packedVarint(1, [2]).varint(2, 1).string(8, 'f').packedFloat(4, [1.5, -2]);
    const t2 = new ProtoWriter().packedVarint(1, [2]).varint(2, 7).string(8, 'l').packedVarint(7, [-1, 5]);
    const t3 = new ProtoWriter().varint(1, 1).varint(2, 6).string(8, 'i').varint(5, 7);
    const g = new ProtoWriter().string(2, 'g').message(5, t1).message(5, t2).message(5, t3);
    const bytes = new ProtoWriter().varint(1, 8).message(7, g).finish();
    const [a, b, c] = decodeOnnx(bytes).graph.initializers;
    expect(Array.from(new Float32Array(a!.rawData.slice().buffer))).toEqual([1.5, -2]);
    expect(Array.from(new BigInt64Array(b!.rawData.slice().buffer))).toEqual([-1n, 5n]);
    expect(Array.from(new Int32Array(c!.rawData.slice().buffer))).toEqual([7]);
  });

  it('decodeOnnx: every truncation of a valid model is a FormatError, never another error', () => {
    const bytes = encodeOnnx(model());
    for (let n = 0; n < bytes.length; n++) {
      try {
        decodeOnnx(bytes.subarray(0, n));
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
        continue;
      }
      // a prefix that ends on a field boundary can be a valid (smaller) model
      expect(n).toBeGreaterThan(0);
    }
  });

  it('decodeOnnx: random byte flips give a model or a FormatError, never another error', () => {
    manualSeed(1);
    const bytes = encodeOnnx(model());
    const u = defaultGenerator.uniform(3 * 2000);
    for (let trial = 0; trial < 2000; trial++) {
      const copy = bytes.slice();
      for (let k = 0; k < 3; k++)
        copy[Math.floor(u[trial * 3 + k]! * copy.length)] = Math.floor(u[(trial * 3 + k + 1) % u.length]! * 256);
      try {
        decodeOnnx(copy);
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
      }
    }
  });

  it('decodeOnnx: typed errors for data that does not match its dims, wrong wire types, no graph, non-bytes input', () => {
    const bad = model({ initializers: [{ name: 'w', dataType: 1, dims: [2, 3], rawData: f32([1]) }] });
    expect(() => decodeOnnx(encodeOnnx(bad))).toThrow(
      /tensor 'w' has the wrong amount of data; expected 24 bytes for dims \[2,3\], got 4/,
    );
    expect(() => decodeOnnx(new ProtoWriter().varint(1, 8).finish())).toThrow(FormatError);
    expect(() => decodeOnnx(new ProtoWriter().varint(7, 3).finish())).toThrow(/wrong wire type/);
    expect(() => decodeOnnx(new Uint8Array([0x2b]))).toThrow(/unsupported wire type/);
    expect(() => decodeOnnx('model' as unknown as Uint8Array)).toThrow(/input is not bytes/);
  });

  it('decodeOnnx: subgraphs nested past maxDepth and tensors past maxBytes are LimitErrors', () => {
    let g: OnnxGraph = model().graph;
    for (let i = 0; i < 5; i++) {
      g = {
        ...model().graph,
        nodes: [
          {
            opType: 'If',
            inputs: [],
            outputs: [],
            name: '',
            domain: '',
            attributes: [{ name: 'then_branch', type: 'graph', value: g }],
          },
        ],
      };
    }
    const bytes = encodeOnnx({ ...model(), graph: g });
    expect(decodeOnnx(bytes).graph.nodes[0]!.opType).toBe('If');
    expect(() => decodeOnnx(bytes, { maxDepth: 3 })).toThrow(LimitError);
    const huge = new ProtoWriter()
      .packedVarint(1, [2 ** 20, 2 ** 20])
      .varint(2, 1)
      .string(8, 'big');
    const hb = new ProtoWriter().varint(1, 8).message(7, new ProtoWriter().message(5, huge)).finish();
    expect(() => decodeOnnx(hb)).toThrow(LimitError);
  });
});
