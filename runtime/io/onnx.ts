/**
 * @module io/onnx — the ONNX ModelProto protobuf: an encoder, and a decoder for hostile bytes.
 *
 * Field numbers are onnx.proto's (onnx/onnx.proto, IR version 8). The model is a plain
 * object tree (`OnnxModel`); tensors carry their values as little-endian `rawData`, which the
 * decoder also produces from the typed fields (float_data, int32_data, int64_data,
 * double_data) that other writers use. External data and sparse tensors are not supported.
 */
import { checkLimit, limitOf, toBytes, type BytesInput, type ReadLimits } from './bytes.ts';
import { FormatError, LimitError } from './errors.ts';
import { ProtoWriter } from './protobuf.ts';

/** TensorProto.DataType codes of the element types this project reads and writes. */
export const ONNX_DTYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
} as const;

/** Bytes per element of each supported TensorProto.DataType code. */
const ELEM_BYTES: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8 };

/** A TensorProto: an initializer or an attribute's tensor, values little-endian in `rawData`. */
export interface OnnxTensor {
  readonly name: string;
  /** A TensorProto.DataType code (see {@link ONNX_DTYPE}). */
  readonly dataType: number;
  readonly dims: readonly number[];
  readonly rawData: Uint8Array;
}

/** An AttributeProto, by its type. */
export type OnnxAttribute =
  | { readonly name: string; readonly type: 'float'; readonly value: number }
  | { readonly name: string; readonly type: 'int'; readonly value: number }
  | { readonly name: string; readonly type: 'string'; readonly value: string }
  | { readonly name: string; readonly type: 'tensor'; readonly value: OnnxTensor }
  | { readonly name: string; readonly type: 'graph'; readonly value: OnnxGraph }
  | { readonly name: string; readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly name: string; readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly name: string; readonly type: 'strings'; readonly value: readonly string[] };

/** A NodeProto. An empty input name is an absent optional input. */
export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  /** '' for the default ONNX domain. */
  readonly domain: string;
  readonly attributes: readonly OnnxAttribute[];
}

/** A ValueInfoProto of a tensor: element type and shape; a string dim is a dim_param (dynamic axis). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: number;
  readonly shape: readonly (number | string)[];
}

/** A GraphProto. */
export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

/** A ModelProto. */
export interface OnnxModel {
  readonly irVersion: number;
  readonly opsetImports: readonly { readonly domain: string; readonly version: number }[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly graph: OnnxGraph;
}

// ------------------------------------------------------------------- encoder

function tensorProto(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter().packedVarint(1, t.dims).varint(2, t.dataType).string(8, t.name);
  return w.bytes(9, t.rawData);
}

function attributeProto(a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  switch (a.type) {
    case 'float':
      return w.varint(20, 1).float(2, a.value);
    case 'int':
      return w.varint(20, 2).varint(3, a.value);
    case 'string':
      return w.varint(20, 3).string(4, a.value);
    case 'tensor':
      return w.varint(20, 4).message(5, tensorProto(a.value));
    case 'graph':
      return w.varint(20, 5).message(6, graphProto(a.value));
    case 'floats':
      return w.varint(20, 6).packedFloat(7, a.value);
    case 'ints':
      return w.varint(20, 7).packedVarint(8, a.value);
    case 'strings':
      for (const s of a.value) w.string(9, s);
      return w.varint(20, 8);
  }
}

function valueInfoProto(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'string') dim.string(2, d);
    else dim.varint(1, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().varint(1, v.elemType).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

function graphProto(g: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) {
    const node = new ProtoWriter();
    for (const i of n.inputs) node.string(1, i);
    for (const o of n.outputs) node.string(2, o);
    node.string(3, n.name).string(4, n.opType);
    for (const a of n.attributes) node.message(5, attributeProto(a));
    if (n.domain !== '') node.string(7, n.domain);
    w.message(1, node);
  }
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, tensorProto(t));
  for (const v of g.inputs) w.message(11, valueInfoProto(v));
  for (const v of g.outputs) w.message(12, valueInfoProto(v));
  return w;
}

/**
 * The ModelProto bytes of `model`.
 * @example const bytes = encodeOnnx(model); decodeOnnx(bytes).graph.nodes.length === model.graph.nodes.length
 */
export function encodeOnnx(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter().varint(1, model.irVersion);
  w.string(2, model.producerName).string(3, model.producerVersion);
  w.message(7, graphProto(model.graph));
  for (const o of model.opsetImports) w.message(8, new ProtoWriter().string(1, o.domain).varint(2, o.version));
  return w.finish();
}

// ------------------------------------------------------------------- decoder

const READER = 'onnx';
const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** Subgraphs (If/Loop bodies) nest; a file may not nest deeper than this by default. */
const DEFAULT_MAX_DEPTH = 64;

/** One message's fields, read lazily over a window of the input. */
class Reader {
  pos: number;
  readonly bytes: Uint8Array;
  readonly end: number;
  readonly what: string;
  constructor(bytes: Uint8Array, start: number, end: number, what: string) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.what = what;
  }

  fail(problem: string, expected: string, got: string): never {
    throw new FormatError(
      `${READER}: ${problem} in ${this.what} at byte ${this.pos}; expected ${expected}, got ${got}`,
    );
  }

  /** A varint as a bigint (at most 10 bytes). */
  varintBig(): bigint {
    let v = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint', 'more bytes', 'the end of the message');
      const b = this.bytes[this.pos++]!;
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return BigInt.asIntN(64, v);
    }
    return this.fail('varint too long', 'at most 10 bytes', 'more');
  }

  /** A varint that must be a safe integer (int64 as two's complement, so -1 reads as -1). */
  varint(): number {
    // Fast path: small non-negative values, the common case.
    const b = this.bytes[this.pos];
    if (b !== undefined && b < 0x80 && this.pos < this.end) {
      this.pos++;
      return b;
    }
    const v = this.varintBig();
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
      this.fail('integer out of range', 'a value within ±2^53', String(v));
    return Number(v);
  }

  /** A length-delimited field's [start, end). */
  span(): [number, number] {
    const n = this.varint();
    if (n < 0 || n > this.end - this.pos)
      this.fail('length out of bounds', `at most ${this.end - this.pos} bytes`, String(n));
    const start = this.pos;
    this.pos += n;
    return [start, this.pos];
  }

  sub(what: string): Reader {
    const [s, e] = this.span();
    return new Reader(this.bytes, s, e, what);
  }

  string(): string {
    const [s, e] = this.span();
    try {
      return UTF8.decode(this.bytes.subarray(s, e));
    } catch (cause) {
      throw new FormatError(
        `${READER}: invalid UTF-8 in ${this.what}; expected a UTF-8 string, got ${e - s} other bytes`,
        {
          cause,
        },
      );
    }
  }

  fixed(n: 4 | 8): DataView {
    if (this.end - this.pos < n) this.fail('truncated fixed-width field', `${n} bytes`, `${this.end - this.pos}`);
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, n);
    this.pos += n;
    return v;
  }

  /** The next field's number and wire type, or null at the end. */
  next(): [number, number] | null {
    if (this.pos >= this.end) return null;
    const key = this.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field < 1) this.fail('invalid field number', 'a field number >= 1', String(field));
    return [field, wire];
  }

  skip(wire: number): void {
    if (wire === 0) this.varintBig();
    else if (wire === 1) this.fixed(8);
    else if (wire === 2) this.span();
    else if (wire === 5) this.fixed(4);
    else this.fail('unsupported wire type', 'one of 0, 1, 2, 5', String(wire));
  }

  expect(wire: number, want: number, field: number): void {
    if (wire !== want) this.fail(`wrong wire type for field ${field}`, String(want), String(wire));
  }

  /** Repeated varints, packed (wire 2) or one per field (wire 0). */
  varints(wire: number, into: number[]): void {
    if (wire === 0) {
      into.push(this.varint());
      return;
    }
    this.expect(wire, 2, 0);
    const r = this.sub(this.what);
    while (r.pos < r.end) into.push(r.varint());
  }
}

interface DecodeState {
  readonly maxDepth: number;
  readonly maxBytes: number;
  bytesOut: number;
}

/** Little-endian bytes of repeated numeric fields (float_data, int32_data, ...), one element per value. */
function packValues(values: readonly number[] | readonly bigint[], dataType: number): Uint8Array {
  const size = ELEM_BYTES[dataType]!;
  const out = new Uint8Array(values.length * size);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => {
    if (dataType === 1) v.setFloat32(i * 4, Number(x), true);
    else if (dataType === 11) v.setFloat64(i * 8, Number(x), true);
    else if (dataType === 7) v.setBigInt64(i * 8, BigInt(x), true);
    else if (size === 4) v.setInt32(i * 4, Number(x), true);
    else if (size === 2) v.setUint16(i * 2, Number(x), true);
    else v.setUint8(i, Number(x) & 0xff);
  });
  return out;
}

function readTensor(r: Reader, st: DecodeState): OnnxTensor {
  let name = '';
  let dataType = 0;
  const dims: number[] = [];
  let raw: Uint8Array | null = null;
  const numbers: number[] = [];
  const longs: bigint[] = [];
  let f: [number, number] | null;
  while ((f = r.next()) !== null) {
    const [field, wire] = f;
    if (field === 1) r.varints(wire, dims);
    else if (field === 2) {
      r.expect(wire, 0, field);
      dataType = r.varint();
    } else if (field === 8) {
      r.expect(wire, 2, field);
      name = r.string();
    } else if (field === 9) {
      r.expect(wire, 2, field);
      const [s, e] = r.span();
      raw = r.bytes.subarray(s, e);
    } else if (field === 4 || field === 10) {
      // float_data (fixed32) / double_data (fixed64), packed or one per field
      const n = field === 4 ? 4 : 8;
      const read = (rr: Reader): void => {
        const dv = rr.fixed(n);
        numbers.push(n === 4 ? dv.getFloat32(0, true) : dv.getFloat64(0, true));
      };
      if (wire === 2) {
        const rr = r.sub(r.what);
        while (rr.pos < rr.end) read(rr);
      } else {
        r.expect(wire, n === 4 ? 5 : 1, field);
        read(r);
      }
    } else if (field === 5) r.varints(wire, numbers);
    else if (field === 7) {
      if (wire === 0) longs.push(r.varintBig());
      else {
        r.expect(wire, 2, field);
        const rr = r.sub(r.what);
        while (rr.pos < rr.end) longs.push(rr.varintBig());
      }
    } else if (field === 13 || field === 14) r.fail('external data', 'tensor values inside the file', `field ${field}`);
    else r.skip(wire);
  }
  const size = ELEM_BYTES[dataType];
  if (size === undefined) {
    throw new FormatError(
      `${READER}: unsupported tensor data type in tensor '${name}'; expected one of ${Object.values(ONNX_DTYPE).join(', ')}, got ${dataType}`,
    );
  }
  let numel = 1;
  for (const d of dims) {
    if (d < 0)
      throw new FormatError(`${READER}: negative dim in tensor '${name}'; expected dims >= 0, got [${dims.join(',')}]`);
    numel *= d;
  }
  checkLimit(READER, `tensor '${name}'`, 'maxBytes', st.maxBytes - st.bytesOut, numel * size, 'bytes');
  if (raw === null) raw = packValues(dataType === 7 ? longs : numbers, dataType);
  if (raw.length !== numel * size) {
    throw new FormatError(
      `${READER}: tensor '${name}' has the wrong amount of data; expected ${numel * size} bytes for dims [${dims.join(',')}], got ${raw.length}`,
    );
  }
  st.bytesOut += raw.length;
  return { name, dataType, dims, rawData: raw };
}

function readAttribute(r: Reader, st: DecodeState, depth: number): OnnxAttribute {
  let name = '';
  let type = 0;
  let f32 = 0;
  let i64 = 0;
  let s = '';
  let t: OnnxTensor | null = null;
  let g: OnnxGraph | null = null;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  let fld: [number, number] | null;
  while ((fld = r.next()) !== null) {
    const [field, wire] = fld;
    if (field === 1) {
      r.expect(wire, 2, field);
      name = r.string();
    } else if (field === 20) {
      r.expect(wire, 0, field);
      type = r.varint();
    } else if (field === 2) {
      r.expect(wire, 5, field);
      f32 = r.fixed(4).getFloat32(0, true);
    } else if (field === 3) {
      r.expect(wire, 0, field);
      i64 = r.varint();
    } else if (field === 4) {
      r.expect(wire, 2, field);
      s = r.string();
    } else if (field === 5) {
      r.expect(wire, 2, field);
      t = readTensor(r.sub('TensorProto'), st);
    } else if (field === 6) {
      r.expect(wire, 2, field);
      g = readGraph(r.sub('GraphProto'), st, depth + 1);
    } else if (field === 7) {
      if (wire === 5) floats.push(r.fixed(4).getFloat32(0, true));
      else {
        r.expect(wire, 2, field);
        const rr = r.sub(r.what);
        while (rr.pos < rr.end) floats.push(rr.fixed(4).getFloat32(0, true));
      }
    } else if (field === 8) r.varints(wire, ints);
    else if (field === 9) {
      r.expect(wire, 2, field);
      strings.push(r.string());
    } else r.skip(wire);
  }
  switch (type) {
    case 1:
      return { name, type: 'float', value: f32 };
    case 2:
      return { name, type: 'int', value: i64 };
    case 3:
      return { name, type: 'string', value: s };
    case 4:
      if (t !== null) return { name, type: 'tensor', value: t };
      break;
    case 5:
      if (g !== null) return { name, type: 'graph', value: g };
      break;
    case 6:
      return { name, type: 'floats', value: floats };
    case 7:
      return { name, type: 'ints', value: ints };
    case 8:
      return { name, type: 'strings', value: strings };
  }
  throw new FormatError(
    `${READER}: unsupported or empty attribute '${name}'; expected a type of 1-8 with its value, got type ${type}`,
  );
}

function readNode(r: Reader, st: DecodeState, depth: number): OnnxNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const attributes: OnnxAttribute[] = [];
  let name = '';
  let opType = '';
  let domain = '';
  let f: [number, number] | null;
  while ((f = r.next()) !== null) {
    const [field, wire] = f;
    if (field === 1) {
      r.expect(wire, 2, field);
      inputs.push(r.string());
    } else if (field === 2) {
      r.expect(wire, 2, field);
      outputs.push(r.string());
    } else if (field === 3) {
      r.expect(wire, 2, field);
      name = r.string();
    } else if (field === 4) {
      r.expect(wire, 2, field);
      opType = r.string();
    } else if (field === 7) {
      r.expect(wire, 2, field);
      domain = r.string();
    } else if (field === 5) {
      r.expect(wire, 2, field);
      attributes.push(readAttribute(r.sub('AttributeProto'), st, depth));
    } else r.skip(wire);
  }
  if (opType === '') r.fail('node without op_type', 'an op_type', `node '${name}' with none`);
  return { opType, inputs, outputs, name, domain, attributes };
}

function readValueInfo(r: Reader): OnnxValueInfo {
  let name = '';
  let elemType = 0;
  const shape: (number | string)[] = [];
  let f: [number, number] | null;
  while ((f = r.next()) !== null) {
    const [field, wire] = f;
    if (field === 1) {
      r.expect(wire, 2, field);
      name = r.string();
    } else if (field === 2) {
      r.expect(wire, 2, field);
      const type = r.sub('TypeProto');
      let tf: [number, number] | null;
      while ((tf = type.next()) !== null) {
        if (tf[0] !== 1) {
          type.skip(tf[1]);
          continue;
        }
        type.expect(tf[1], 2, 1);
        const tt = type.sub('TypeProto.Tensor');
        let ttf: [number, number] | null;
        while ((ttf = tt.next()) !== null) {
          if (ttf[0] === 1) {
            tt.expect(ttf[1], 0, 1);
            elemType = tt.varint();
          } else if (ttf[0] === 2) {
            tt.expect(ttf[1], 2, 2);
            const sh = tt.sub('TensorShapeProto');
            let sf: [number, number] | null;
            while ((sf = sh.next()) !== null) {
              if (sf[0] !== 1) {
                sh.skip(sf[1]);
                continue;
              }
              sh.expect(sf[1], 2, 1);
              const dim = sh.sub('TensorShapeProto.Dimension');
              let value: number | string = '';
              let df: [number, number] | null;
              while ((df = dim.next()) !== null) {
                if (df[0] === 1) {
                  dim.expect(df[1], 0, 1);
                  value = dim.varint();
                } else if (df[0] === 2) {
                  dim.expect(df[1], 2, 2);
                  value = dim.string();
                } else dim.skip(df[1]);
              }
              shape.push(value);
            }
          } else tt.skip(ttf[1]);
        }
      }
    } else r.skip(wire);
  }
  return { name, elemType, shape };
}

function readGraph(r: Reader, st: DecodeState, depth: number): OnnxGraph {
  if (depth > st.maxDepth) throw new LimitError(READER, 'subgraph nesting', 'maxDepth', st.maxDepth, depth);
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  let name = '';
  let f: [number, number] | null;
  while ((f = r.next()) !== null) {
    const [field, wire] = f;
    if (field === 1) {
      r.expect(wire, 2, field);
      nodes.push(readNode(r.sub('NodeProto'), st, depth));
    } else if (field === 2) {
      r.expect(wire, 2, field);
      name = r.string();
    } else if (field === 5) {
      r.expect(wire, 2, field);
      initializers.push(readTensor(r.sub('TensorProto'), st));
    } else if (field === 11) {
      r.expect(wire, 2, field);
      inputs.push(readValueInfo(r.sub('ValueInfoProto')));
    } else if (field === 12) {
      r.expect(wire, 2, field);
      outputs.push(readValueInfo(r.sub('ValueInfoProto')));
    } else r.skip(wire);
  }
  return { name, nodes, initializers, inputs, outputs };
}

/**
 * Reads a ModelProto from hostile bytes (any `ArrayBufferView`, its own range only). Tensor
 * values come back as little-endian `rawData` views into the input (or fresh bytes where the
 * file used typed fields). Throws `FormatError` for malformed bytes and `LimitError` past
 * `maxDepth` (subgraph nesting, default 64) or `maxBytes` (tensor data materialised from
 * typed fields and raw data together; default as the other readers').
 * @example const model = decodeOnnx(await readFile('model.onnx')); model.graph.nodes[0].opType // 'Gemm'
 */
export function decodeOnnx(input: BytesInput, limits: Pick<ReadLimits, 'maxBytes' | 'maxDepth'> = {}): OnnxModel {
  const bytes = toBytes(input, READER);
  const st: DecodeState = {
    maxDepth: limitOf(READER, 'maxDepth', limits.maxDepth, DEFAULT_MAX_DEPTH),
    maxBytes: limitOf(READER, 'maxBytes', limits.maxBytes, Math.max(256 * 2 ** 20, 16 * bytes.length)),
    bytesOut: 0,
  };
  const r = new Reader(bytes, 0, bytes.length, 'ModelProto');
  let irVersion = 0;
  let producerName = '';
  let producerVersion = '';
  let graph: OnnxGraph | null = null;
  const opsetImports: { domain: string; version: number }[] = [];
  let f: [number, number] | null;
  while ((f = r.next()) !== null) {
    const [field, wire] = f;
    if (field === 1) {
      r.expect(wire, 0, field);
      irVersion = r.varint();
    } else if (field === 2) {
      r.expect(wire, 2, field);
      producerName = r.string();
    } else if (field === 3) {
      r.expect(wire, 2, field);
      producerVersion = r.string();
    } else if (field === 7) {
      r.expect(wire, 2, field);
      graph = readGraph(r.sub('GraphProto'), st, 0);
    } else if (field === 8) {
      r.expect(wire, 2, field);
      const o = r.sub('OperatorSetIdProto');
      let domain = '';
      let version = 0;
      let of: [number, number] | null;
      while ((of = o.next()) !== null) {
        if (of[0] === 1) {
          o.expect(of[1], 2, 1);
          domain = o.string();
        } else if (of[0] === 2) {
          o.expect(of[1], 0, 2);
          version = o.varint();
        } else o.skip(of[1]);
      }
      opsetImports.push({ domain, version });
    } else r.skip(wire);
  }
  if (graph === null) {
    throw new FormatError(
      `${READER}: no graph; expected a ModelProto with a graph (field 7), got ${bytes.length} bytes without one`,
    );
  }
  if (irVersion < 3) {
    throw new FormatError(
      `${READER}: unsupported IR version; expected ir_version >= 3 (opset imports), got ${irVersion}`,
    );
  }
  return { irVersion, opsetImports, producerName, producerVersion, graph };
}
