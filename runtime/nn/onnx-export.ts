/**
 * @module nn/onnx-export — `module.toOnnx(sample, options)`, Lightning's `to_onnx`: traces
 * `forward` and writes the graph as an ONNX model, the weights as initializers.
 *
 * Tracing runs `forward` once on the sample under `noGrad` and in eval mode (as
 * torch.onnx.export), with a tracer that the tensor layer hands every op to (tensor/trace.ts)
 * and with each submodule's `forward` wrapped so that every op knows the module path it ran
 * in. The graph is then read back from the outputs: the last op that made a tensor is its
 * node, the inputs are the sample's tensors, and every other tensor it reaches is a constant,
 * named by its state-dict key when it is a parameter or buffer.
 *
 * Op coverage (trace name → ONNX, opsets 17-20):
 * relu, sigmoid, tanh, leaky_relu, elu → Relu, Sigmoid, Tanh, LeakyRelu, Elu; gelu → Gelu
 * (opset 20) or its Erf / Tanh formula; silu → x·Sigmoid(x); softplus → Softplus (β ≠ 1 scales);
 * add, sub, mul, div, pow, maximum, minimum, neg, abs, sign, sqrt, exp, log, clamp → Add, Sub,
 * Mul, Div, Pow, Max, Min, Neg, Abs, Sign, Sqrt, Exp, Log, Clip; eq, ne, lt, le, gt, ge, where,
 * logical_not, cast → Equal, Not(Equal), Less, LessOrEqual, Greater, GreaterOrEqual, Where, Not,
 * Cast; reshape (view, reshape, flatten, squeeze, unsqueeze), permute, slice, expand, identity →
 * Reshape, Transpose, Slice, Expand, Identity; sum, mean, amax, amin, max/min over a dim,
 * argmax, argmin, logsumexp → ReduceSum, ReduceMean, ReduceMax, ReduceMin, ArgMax, ArgMin,
 * ReduceLogSumExp (axes an attribute below opset 18, an input from 18; ReduceSum's from 13);
 * softmax, log_softmax → Softmax, LogSoftmax; matmul → MatMul; linear → Gemm (2-D input) or
 * MatMul + Add; conv2d → Conv; max_pool2d, avg_pool2d → MaxPool, AveragePool;
 * adaptive_avg_pool2d → GlobalAveragePool (1×1) or AveragePool (when the sizes divide);
 * layer_norm → LayerNormalization; batch_norm (eval) → BatchNormalization; embedding,
 * index_select, gather, cat → Gather, Gather, GatherElements, Concat. Dropout in eval mode is
 * the identity and leaves no node. Anything else (unfold, fold, scatter_add, the f16 rounding
 * of autocast) is an `OnnxExportError` naming the op and the module it ran in.
 */
import { noGrad } from '../autograd.ts';
import type { DType } from '../dtype.ts';
import { LightningError, ValueError } from '../errors.ts';
import { encodeOnnx, ONNX_DTYPE, type OnnxAttribute, type OnnxNode, type OnnxTensor } from '../io/onnx.ts';
import { getPlatform } from '../platform.ts';
import { shapeString } from '../shape.ts';
import { Tensor, withTracer, type TracedOp } from '../tensor/index.ts';
import type { Module } from './module.ts';

/** Options of `toOnnx`, as torch.onnx.export's (and so Lightning's `to_onnx`'s). */
export interface OnnxExportOptions {
  /** Names of the graph inputs, one per sample tensor (default `['input']`, then `input_1`, ...). */
  readonly inputNames?: readonly string[];
  /** Names of the graph outputs (default `['output']`, then `output_1`, ...). */
  readonly outputNames?: readonly string[];
  /**
   * Axes whose size may change, by input or output name: `{ input: { 0: 'batch' } }`, or a list
   * of axes (`{ input: [0] }`, named `input_dynamic_axes_1`, ... as torch names them).
   */
  readonly dynamicAxes?: Readonly<Record<string, Readonly<Record<number, string>> | readonly number[]>>;
  /** The default-domain opset: 17 (default), 18, 19 or 20. */
  readonly opsetVersion?: number;
  /** Also write the model here, atomically, through the platform's `writeFile`. */
  readonly path?: string;
}

/** A graph that cannot be exported: an op without an ONNX equivalent, or a forward that returns no tensor. */
export class OnnxExportError extends LightningError {
  /** The traced op's name (`'unfold'`), when an op is the problem. */
  readonly op: string | null;
  /** The dotted path of the module the op ran in ('' for the root), when an op is the problem. */
  readonly modulePath: string | null;
  constructor(message: string, details: { op?: string; modulePath?: string } = {}) {
    super(message);
    this.op = details.op ?? null;
    this.modulePath = details.modulePath ?? null;
  }
}

/** The opsets this exporter writes, with the IR version each needs (onnx's VERSION_TABLE). */
const IR_VERSION: Readonly<Record<number, number>> = { 17: 8, 18: 8, 19: 9, 20: 9 };
const PRODUCER = 'lightning-ts';
const PRODUCER_VERSION = '0.1.0';
const INT64_MAX = 2n ** 63n - 1n;

interface Recorded {
  readonly op: TracedOp;
  readonly path: string;
  readonly owner: string;
}

type ForwardFn = (...args: unknown[]) => unknown;

function onnxType(op: string, dtype: DType): number {
  return ONNX_DTYPE[dtype as keyof typeof ONNX_DTYPE] ?? fail(op, `no ONNX element type for ${dtype}`);
}

function fail(component: string, message: string): never {
  throw new OnnxExportError(`${component}: ${message}`);
}

function checkOptions(
  options: OnnxExportOptions,
  nIn: number,
): { inputNames: string[]; opset: number; names: readonly string[] | undefined } {
  const opset = options.opsetVersion ?? 17;
  if (IR_VERSION[opset] === undefined) {
    throw new ValueError(
      `toOnnx: unsupported opsetVersion; expected one of ${Object.keys(IR_VERSION).join(', ')}, got ${String(opset)}`,
    );
  }
  const inputNames = [...(options.inputNames ?? [])];
  if (inputNames.length > nIn) {
    throw new ValueError(
      `toOnnx: more inputNames than sample inputs; expected at most ${nIn}, got ${inputNames.length} (${inputNames.join(', ')})`,
    );
  }
  for (let i = inputNames.length; i < nIn; i++) inputNames.push(i === 0 ? 'input' : `input_${i}`);
  const all = [...inputNames, ...(options.outputNames ?? [])];
  for (const n of all) {
    if (typeof n !== 'string' || n === '')
      throw new ValueError(`toOnnx: invalid input or output name; expected a non-empty string, got ${String(n)}`);
  }
  if (new Set(all).size !== all.length) {
    throw new ValueError(
      `toOnnx: input and output names must be distinct; expected unique names, got ${all.join(', ')}`,
    );
  }
  return { inputNames, opset, names: options.outputNames };
}

/** The dim_param of each dynamic axis of `name`, checked against its rank. */
function dynamicDims(options: OnnxExportOptions, name: string, rank: number): Map<number, string> {
  const spec = options.dynamicAxes?.[name];
  const out = new Map<number, string>();
  if (spec === undefined) return out;
  const entries: [number, string][] = Array.isArray(spec)
    ? (spec as readonly number[]).map((a) => [a, `${name}_dynamic_axes_${a + 1}`])
    : Object.entries(spec).map(([k, v]) => [Number(k), v as string]);
  for (const [axis, param] of entries) {
    if (!Number.isInteger(axis) || axis < 0 || axis >= rank || typeof param !== 'string' || param === '') {
      throw new ValueError(
        `toOnnx: invalid dynamic axis for '${name}'; expected an axis in [0, ${rank}) named by a non-empty string, got ${String(axis)}: ${String(param)}`,
      );
    }
    out.set(axis, param);
  }
  return out;
}

/** Little-endian bytes of a tensor's values, as TensorProto's raw_data. */
async function rawBytes(t: Tensor): Promise<Uint8Array> {
  const data = await t.data();
  const size = t.dtype === 'bool' ? 1 : t.dtype === 'float64' ? 8 : 4;
  const out = new Uint8Array(data.length * size);
  const v = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (t.dtype === 'float32') v.setFloat32(i * 4, x, true);
    else if (t.dtype === 'float64') v.setFloat64(i * 8, x, true);
    else if (t.dtype === 'int32') v.setInt32(i * 4, x, true);
    else v.setUint8(i, x === 0 ? 0 : 1);
  }
  return out;
}

function int64Bytes(values: readonly (number | bigint)[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setBigInt64(i * 8, BigInt(x), true));
  return out;
}

function attr(name: string, value: number | string | readonly number[], float = false): OnnxAttribute {
  if (typeof value === 'string') return { name, type: 'string', value };
  if (typeof value === 'number') return float ? { name, type: 'float', value } : { name, type: 'int', value };
  return { name, type: 'ints', value };
}

/** The graph under construction: nodes, initializers, and the name of every tensor met. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly reads: Promise<void>[] = [];
  readonly names = new Map<Tensor, string>();
  readonly used = new Set<string>();
  #n = 0;
  readonly opset: number;
  readonly dynamicSizes: ReadonlySet<number>;
  constructor(opset: number, dynamicSizes: ReadonlySet<number>) {
    this.opset = opset;
    this.dynamicSizes = dynamicSizes;
  }

  fresh(prefix: string): string {
    let name = `${prefix}_${this.#n++}`;
    while (this.used.has(name)) name = `${prefix}_${this.#n++}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node; returns its output's name (`out`, or a fresh one). */
  node(opType: string, inputs: readonly string[], attrs: readonly OnnxAttribute[], path: string, out?: string): string {
    const output = out ?? this.fresh(`${opType}_output`);
    const scope = path === '' ? '' : `/${path}`;
    this.nodes.push({
      opType,
      inputs,
      outputs: [output],
      name: `${scope}/${opType}_${this.nodes.length}`,
      domain: '',
      attributes: attrs,
    });
    return output;
  }

  /** A tensor read from the backend into an initializer named `name`. */
  constant(t: Tensor, name: string): string {
    this.used.add(name);
    this.names.set(t, name);
    const dims = [...t.shape];
    const dataType = onnxType(name, t.dtype);
    // The slot keeps the initializers in the order the graph met them.
    const slot = this.initializers.length;
    this.initializers.push({ name, dataType, dims, rawData: new Uint8Array(0) });
    this.reads.push(
      rawBytes(t).then((rawData) => {
        this.initializers[slot] = { name, dataType, dims, rawData };
      }),
    );
    return name;
  }

  int64s(values: readonly (number | bigint)[]): string {
    const name = this.fresh('const_int64');
    this.initializers.push({ name, dataType: ONNX_DTYPE.int64, dims: [values.length], rawData: int64Bytes(values) });
    return name;
  }

  scalar(value: number, dtype: DType): string {
    const name = this.fresh('const_scalar');
    const t = { float32: 4, float64: 8, int32: 4, bool: 1 }[dtype];
    const raw = new Uint8Array(t);
    const v = new DataView(raw.buffer);
    if (dtype === 'float32') v.setFloat32(0, value, true);
    else if (dtype === 'float64') v.setFloat64(0, value, true);
    else if (dtype === 'int32') v.setInt32(0, value, true);
    else v.setUint8(0, value === 0 ? 0 : 1);
    this.initializers.push({ name, dataType: onnxType(name, dtype), dims: [], rawData: raw });
    return name;
  }

  /** A tensor of `shape` and `dtype` filled with `value` (LayerNorm and BatchNorm without affine weights). */
  filled(shape: readonly number[], value: number, dtype: DType): string {
    const n = shape.reduce((a, b) => a * b, 1);
    const name = this.fresh('const_fill');
    const size = dtype === 'float64' ? 8 : 4;
    const raw = new Uint8Array(n * size);
    const v = new DataView(raw.buffer);
    for (let i = 0; i < n; i++) {
      if (dtype === 'float64') v.setFloat64(i * 8, value, true);
      else v.setFloat32(i * 4, value, true);
    }
    this.initializers.push({ name, dataType: onnxType(name, dtype), dims: [...shape], rawData: raw });
    return name;
  }

  /** Reduction axes as opset `since` takes them: an attribute before, an int64 input from then on. */
  axes(x: string, axes: readonly number[], since: number): { inputs: string[]; attrs: OnnxAttribute[] } {
    return this.opset >= since
      ? { inputs: [x, this.int64s(axes)], attrs: [] }
      : { inputs: [x], attrs: [attr('axes', axes)] };
  }
}

/**
 * A Reshape's target that stays batch-agnostic: 0 copies a dim that equals the input's at a
 * dynamic size, else -1 on dim 0 when both dim 0s are multiples of the traced batch (a batch
 * merged into or split out of dim 0). Sizes are numbers, not symbols, so a static dim that
 * happens to equal the traced batch size is taken for it: trace with a batch size no static
 * dim has (torch's tracer has the same blind spot for Python ints).
 */
function reshapeTarget(inShape: readonly number[], outShape: readonly number[], dyn: ReadonlySet<number>): number[] {
  if (dyn.size === 0) return [...outShape];
  const target = outShape.map((s, i) => (i < inShape.length && s === inShape[i] && dyn.has(s) ? 0 : s));
  const [a, b] = [inShape[0], outShape[0]];
  if (target.includes(0) || a === undefined || b === undefined) return target;
  for (const batch of dyn) {
    if (batch > 1 && a % batch === 0 && b % batch === 0) {
      target[0] = -1;
      break;
    }
  }
  return target;
}

const UNARY: Readonly<Record<string, string>> = {
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  neg: 'Neg',
  abs: 'Abs',
  sign: 'Sign',
  exp: 'Exp',
  log: 'Log',
  sqrt: 'Sqrt',
  logical_not: 'Not',
  identity: 'Identity',
};
const BINARY: Readonly<Record<string, string>> = {
  add: 'Add',
  sub: 'Sub',
  mul: 'Mul',
  div: 'Div',
  pow: 'Pow',
  maximum: 'Max',
  minimum: 'Min',
  eq: 'Equal',
  lt: 'Less',
  le: 'LessOrEqual',
  gt: 'Greater',
  ge: 'GreaterOrEqual',
  matmul: 'MatMul',
};

function num(op: TracedOp, name: string): number {
  const v = op.attrs[name];
  if (typeof v !== 'number') fail(op.op, `attribute ${name} is not a number; expected a number, got ${String(v)}`);
  return v;
}
function nums(op: TracedOp, name: string): number[] {
  const v = op.attrs[name];
  if (!Array.isArray(v)) fail(op.op, `attribute ${name} is not a list; expected numbers, got ${String(v)}`);
  return v as number[];
}

/** Emits the nodes of one traced op; `ins` are its inputs' names ('' for an absent one); returns the output's name. */
function emit(b: GraphBuilder, r: Recorded, ins: readonly string[], out: string | undefined): string {
  const { op } = r;
  const p = r.path;
  const x = ins[0]!;
  const xT = op.inputs[0]!;
  const dtype = op.output.dtype;
  const single = UNARY[op.op];
  if (single !== undefined) return b.node(single, [x], [], p, out);
  const bin = BINARY[op.op];
  if (bin !== undefined) return b.node(bin, [x, ins[1]!], [], p, out);
  const gelu = (approximate: 'none' | 'tanh'): string => {
    if (b.opset >= 20) return b.node('Gelu', [x], [attr('approximate', approximate)], p, out);
    let inner: string;
    if (approximate === 'none') {
      // x·½(1 + erf(x/√2))
      inner = b.node('Erf', [b.node('Div', [x, b.scalar(Math.SQRT2, dtype)], [], p)], [], p);
    } else {
      // x·½(1 + tanh(√(2/π)(x + 0.044715x³)))
      const cube = b.node('Mul', [b.node('Mul', [x, x], [], p), x], [], p);
      const sum = b.node('Add', [x, b.node('Mul', [cube, b.scalar(0.044715, dtype)], [], p)], [], p);
      inner = b.node('Tanh', [b.node('Mul', [sum, b.scalar(Math.sqrt(2 / Math.PI), dtype)], [], p)], [], p);
    }
    const half = b.node('Mul', [x, b.scalar(0.5, dtype)], [], p);
    return b.node('Mul', [half, b.node('Add', [inner, b.scalar(1, dtype)], [], p)], [], p, out);
  };
  switch (op.op) {
    case 'leaky_relu':
      return b.node('LeakyRelu', [x], [attr('alpha', num(op, 'alpha'), true)], p, out);
    case 'elu':
      return b.node('Elu', [x], [attr('alpha', num(op, 'alpha'), true)], p, out);
    case 'gelu':
      return gelu('none');
    case 'gelu_tanh':
      return gelu('tanh');
    case 'silu':
      return b.node('Mul', [x, b.node('Sigmoid', [x], [], p)], [], p, out);
    case 'softplus': {
      // torch's threshold (the identity above βx > 20) differs from log1p(exp) by < 1e-8 relative.
      const beta = num(op, 'beta');
      if (beta === 1) return b.node('Softplus', [x], [], p, out);
      const sp = b.node('Softplus', [b.node('Mul', [x, b.scalar(beta, dtype)], [], p)], [], p);
      return b.node('Div', [sp, b.scalar(beta, dtype)], [], p, out);
    }
    case 'ne':
      return b.node('Not', [b.node('Equal', [x, ins[1]!], [], p)], [], p, out);
    case 'where':
      return b.node('Where', [x, ins[1]!, ins[2]!], [], p, out);
    case 'clamp': {
      const lo = op.attrs.min;
      const hi = op.attrs.max;
      const min = typeof lo === 'number' ? b.scalar(lo, dtype) : '';
      const max = typeof hi === 'number' ? b.scalar(hi, dtype) : '';
      return b.node('Clip', max === '' ? [x, min] : [x, min, max], [], p, out);
    }
    case 'cast':
      return b.node('Cast', [x], [attr('to', onnxType(op.op, dtype))], p, out);
    case 'reshape':
      return b.node('Reshape', [x, b.int64s(reshapeTarget(xT.shape, op.output.shape, b.dynamicSizes))], [], p, out);
    case 'permute':
      return b.node('Transpose', [x], [attr('perm', nums(op, 'perm'))], p, out);
    case 'slice': {
      const dim = num(op, 'dim');
      const end = num(op, 'end');
      const ends = end >= xT.shape[dim]! ? INT64_MAX : BigInt(end);
      const inputs = [x, b.int64s([num(op, 'start')]), b.int64s([ends]), b.int64s([dim]), b.int64s([num(op, 'step')])];
      return b.node('Slice', inputs, [], p, out);
    }
    case 'expand': {
      // 1 where the size is kept: Expand broadcasts both ways, so a dynamic dim stays dynamic.
      const lead = op.output.dim() - xT.dim();
      const shape = op.output.shape.map((s, i) => (i >= lead && xT.shape[i - lead] === s ? 1 : s));
      return b.node('Expand', [x, b.int64s(shape)], [], p, out);
    }
    case 'sum':
    case 'mean':
    case 'amax':
    case 'amin':
    case 'max_dim':
    case 'min_dim':
    case 'logsumexp': {
      const dims = nums(op, 'dims');
      if (xT.dim() === 0 || dims.length === 0) return b.node('Identity', [x], [], p, out);
      const onnx = {
        sum: 'ReduceSum',
        mean: 'ReduceMean',
        amax: 'ReduceMax',
        amin: 'ReduceMin',
        max_dim: 'ReduceMax',
        min_dim: 'ReduceMin',
        logsumexp: 'ReduceLogSumExp',
      }[op.op]!;
      const src = xT.dtype === 'bool' ? b.node('Cast', [x], [attr('to', ONNX_DTYPE.int32)], p) : x;
      const a = b.axes(src, dims, onnx === 'ReduceSum' ? 13 : 18);
      return b.node(onnx, a.inputs, [...a.attrs, attr('keepdims', op.attrs.keepdim === true ? 1 : 0)], p, out);
    }
    case 'argmax':
    case 'argmin': {
      const dims = op.attrs.dims;
      const flat = !Array.isArray(dims);
      const src = flat ? b.node('Reshape', [x, b.int64s([-1])], [], p) : x;
      const axis = flat ? 0 : ((dims as number[])[0] ?? 0);
      if (!flat && (dims as number[]).length === 0) return b.node('Cast', [x], [attr('to', ONNX_DTYPE.int32)], p, out);
      const keep = !flat && op.attrs.keepdim === true ? 1 : 0;
      const idx = b.node(
        op.op === 'argmax' ? 'ArgMax' : 'ArgMin',
        [src],
        [attr('axis', axis), attr('keepdims', keep)],
        p,
      );
      return b.node('Cast', [idx], [attr('to', ONNX_DTYPE.int32)], p, out);
    }
    case 'softmax':
      return b.node('Softmax', [x], [attr('axis', num(op, 'dim'))], p, out);
    case 'log_softmax':
      return b.node('LogSoftmax', [x], [attr('axis', num(op, 'dim'))], p, out);
    case 'linear': {
      const [w, bias] = [ins[1]!, ins[2] ?? ''];
      if (xT.dim() === 2) {
        return b.node('Gemm', bias === '' ? [x, w] : [x, w, bias], [attr('transB', 1)], p, out);
      }
      const wt = b.node('Transpose', [w], [attr('perm', [1, 0])], p);
      if (bias === '') return b.node('MatMul', [x, wt], [], p, out);
      return b.node('Add', [b.node('MatMul', [x, wt], [], p), bias], [], p, out);
    }
    case 'conv2d': {
      if (xT.dim() !== 4) unbatched(r, xT);
      const inputs = ins[2] === '' ? [x, ins[1]!] : [x, ins[1]!, ins[2]!];
      return b.node(
        'Conv',
        inputs,
        [
          attr('dilations', nums(op, 'dilation')),
          attr('group', num(op, 'groups')),
          attr('kernel_shape', nums(op, 'kernel')),
          attr('pads', nums(op, 'pads')),
          attr('strides', nums(op, 'stride')),
        ],
        p,
        out,
      );
    }
    case 'max_pool2d':
    case 'avg_pool2d': {
      if (xT.dim() !== 4) unbatched(r, xT);
      const attrs = [
        attr('ceil_mode', op.attrs.ceilMode === true ? 1 : 0),
        attr('kernel_shape', nums(op, 'kernel')),
        attr('pads', nums(op, 'pads')),
        attr('strides', nums(op, 'stride')),
      ];
      if (op.op === 'max_pool2d')
        return b.node('MaxPool', [x], [...attrs, attr('dilations', nums(op, 'dilation'))], p, out);
      if (op.attrs.divisorOverride !== null) unsupported(r, 'divisorOverride has no ONNX AveragePool equivalent');
      return b.node(
        'AveragePool',
        [x],
        [...attrs, attr('count_include_pad', op.attrs.countIncludePad === false ? 0 : 1)],
        p,
        out,
      );
    }
    case 'adaptive_avg_pool2d': {
      if (xT.dim() !== 4) unbatched(r, xT);
      const [oh, ow] = nums(op, 'outputSize') as [number, number];
      const [h, w] = [xT.shape[2]!, xT.shape[3]!];
      if (oh === 1 && ow === 1) return b.node('GlobalAveragePool', [x], [], p, out);
      if (h % oh !== 0 || w % ow !== 0) {
        unsupported(
          r,
          `an output size of [${oh}, ${ow}] from [${h}, ${w}] has unequal windows (only 1×1 or a divisor of the input exports)`,
        );
      }
      const k = [h / oh, w / ow];
      return b.node('AveragePool', [x], [attr('kernel_shape', k), attr('strides', k)], p, out);
    }
    case 'layer_norm': {
      const axis = num(op, 'axis');
      const scale = ins[1] === '' ? b.filled(xT.shape.slice(axis), 1, dtype) : ins[1]!;
      const inputs = ins[2] === '' ? [x, scale] : [x, scale, ins[2]!];
      return b.node('LayerNormalization', inputs, [attr('axis', axis), attr('epsilon', num(op, 'eps'), true)], p, out);
    }
    case 'batch_norm': {
      const c = [xT.shape[1]!];
      const scale = ins[1] === '' ? b.filled(c, 1, dtype) : ins[1]!;
      const bias = ins[2] === '' ? b.filled(c, 0, dtype) : ins[2]!;
      return b.node(
        'BatchNormalization',
        [x, scale, bias, ins[3]!, ins[4]!],
        [attr('epsilon', num(op, 'eps'), true)],
        p,
        out,
      );
    }
    case 'embedding':
      return b.node('Gather', [x, ins[1]!], [attr('axis', 0)], p, out);
    case 'index_select':
      return b.node('Gather', [x, ins[1]!], [attr('axis', num(op, 'dim'))], p, out);
    case 'gather':
      return b.node('GatherElements', [x, ins[1]!], [attr('axis', num(op, 'dim'))], p, out);
    case 'cat':
      return b.node('Concat', ins, [attr('axis', num(op, 'dim'))], p, out);
  }
  return unsupported(r, 'it has no ONNX export');
}

function where(r: Recorded): string {
  return r.path === '' ? `the root module (${r.owner})` : `module '${r.path}' (${r.owner})`;
}

function unsupported(r: Recorded, why: string): never {
  throw new OnnxExportError(
    `toOnnx: op '${r.op.op}' in ${where(r)} cannot be exported: ${why}; expected an op with an ONNX equivalent (see nn/onnx-export.ts), got '${r.op.op}'`,
    { op: r.op.op, modulePath: r.path },
  );
}

function unbatched(r: Recorded, x: Tensor): never {
  throw new OnnxExportError(
    `toOnnx: op '${r.op.op}' in ${where(r)} needs a batched input to export; expected [N, C, H, W], got ${shapeString(x.shape)}`,
    { op: r.op.op, modulePath: r.path },
  );
}

/** Runs `forward` on `inputs` in eval mode and under `noGrad`, recording every op with its module path. */
function trace(module: Module, inputs: readonly Tensor[]): { outputs: unknown; records: Map<Tensor, Recorded> } {
  const records = new Map<Tensor, Recorded>();
  const stack: [string, string][] = [['', module.constructor.name]];
  const restore: (() => void)[] = [];
  const modes = [...module.modules()].map((m): [Module, boolean] => [m, m.training]);
  for (const [path, m] of module.namedModules()) {
    const fields = m as unknown as Record<string, unknown>;
    const fwd = fields.forward;
    if (path === '' || typeof fwd !== 'function') continue;
    const own = Object.getOwnPropertyDescriptor(m, 'forward');
    Object.defineProperty(m, 'forward', {
      configurable: true,
      enumerable: false,
      writable: true,
      value: (...args: unknown[]): unknown => {
        stack.push([path, m.constructor.name]);
        try {
          return (fwd as ForwardFn).apply(m, args);
        } finally {
          stack.pop();
        }
      },
    });
    restore.push(() => {
      if (own === undefined) delete fields.forward;
      else Object.defineProperty(m, 'forward', own);
    });
  }
  try {
    module.eval();
    const forward = (module as unknown as Record<string, unknown>).forward;
    if (typeof forward !== 'function')
      fail('toOnnx', `${module.constructor.name} has no forward method; expected one, got none`);
    const tracer = {
      record(op: TracedOp): void {
        const [path, owner] = stack[stack.length - 1]!;
        records.set(op.output, { op, path, owner });
      },
    };
    const outputs = noGrad(() => withTracer(tracer, () => (forward as ForwardFn).apply(module, [...inputs])));
    return { outputs, records };
  } finally {
    for (const undo of restore) undo();
    for (const [m, training] of modes) m.training = training;
  }
}

/**
 * The ONNX model (ModelProto bytes) of `module.forward` on `inputSample`: see
 * {@link OnnxExportOptions} and this file's op coverage.
 * @example const bytes = await exportOnnx(model, randn([1, 784]), { dynamicAxes: { input: { 0: 'batch' }, output: { 0: 'batch' } } });
 */
export async function exportOnnx(
  module: Module,
  inputSample: Tensor | readonly Tensor[],
  options: OnnxExportOptions = {},
): Promise<Uint8Array> {
  const inputs = inputSample instanceof Tensor ? [inputSample] : [...inputSample];
  if (inputs.length === 0 || !inputs.every((t) => t instanceof Tensor)) {
    throw new ValueError(
      `toOnnx: inputSample must be a Tensor or a non-empty array of Tensors; expected Tensors, got ${String(inputSample)}`,
    );
  }
  const { inputNames, opset, names } = checkOptions(options, inputs.length);
  const { outputs: result, records } = trace(module, inputs);
  const outputs = result instanceof Tensor ? [result] : Array.isArray(result) ? (result as unknown[]) : [result];
  if (!outputs.every((t) => t instanceof Tensor)) {
    throw new OnnxExportError(
      `toOnnx: forward must return a Tensor or an array of Tensors; expected Tensors, got ${outputs.map((o) => typeof o).join(', ')}`,
    );
  }
  const outTensors = outputs as Tensor[];
  if (names !== undefined && names.length > outTensors.length) {
    throw new ValueError(
      `toOnnx: more outputNames than outputs; expected at most ${outTensors.length}, got ${names.length}`,
    );
  }
  const outputNames = outTensors.map((_, i) => names?.[i] ?? (i === 0 ? 'output' : `output_${i}`));
  const known = new Set([...inputNames, ...outputNames]);
  for (const key of Object.keys(options.dynamicAxes ?? {})) {
    if (!known.has(key)) {
      throw new ValueError(
        `toOnnx: dynamicAxes names an unknown input or output; expected one of ${[...known].join(', ')}, got '${key}'`,
      );
    }
  }
  const inDyn = inputs.map((t, i) => dynamicDims(options, inputNames[i]!, t.dim()));
  const outDyn = outTensors.map((t, i) => dynamicDims(options, outputNames[i]!, t.dim()));
  const dynamicSizes = new Set<number>();
  inDyn.forEach((m, i) => {
    for (const axis of m.keys()) dynamicSizes.add(inputs[i]!.shape[axis]!);
  });

  const b = new GraphBuilder(opset, dynamicSizes);
  inputs.forEach((t, i) => {
    b.names.set(t, inputNames[i]!);
    b.used.add(inputNames[i]!);
  });
  for (const n of outputNames) b.used.add(n);
  const stateNames = new Map<Tensor, string>();
  for (const [k, t] of module.namedBuffers()) stateNames.set(t, k);
  for (const [k, t] of module.namedParameters()) stateNames.set(t, k);
  for (const k of stateNames.values()) b.used.add(k);
  const finalName = new Map<Tensor, string>();
  outTensors.forEach((t, i) => {
    if (!finalName.has(t) && !b.names.has(t)) finalName.set(t, outputNames[i]!);
  });

  // Depth-first from the outputs, iteratively (deep graphs would overflow the JS stack).
  const nameOf = (t: Tensor): string => {
    const known = b.names.get(t);
    if (known !== undefined) return known;
    const state = stateNames.get(t);
    return b.constant(t, state ?? b.fresh('const'));
  };
  for (const root of outTensors) {
    const stack: [Tensor, boolean][] = [[root, false]];
    while (stack.length > 0) {
      const [t, expanded] = stack.pop()!;
      if (b.names.has(t)) continue;
      const r = records.get(t);
      if (r === undefined) {
        nameOf(t);
        continue;
      }
      if (!expanded) {
        stack.push([t, true]);
        for (const i of r.op.inputs) if (i !== null && !b.names.has(i)) stack.push([i, false]);
        continue;
      }
      const ins = r.op.inputs.map((i) => (i === null ? '' : nameOf(i)));
      b.names.set(t, emit(b, r, ins, finalName.get(t)));
    }
  }
  outTensors.forEach((t, i) => {
    const name = outputNames[i]!;
    if (b.names.get(t) !== name) b.node('Identity', [nameOf(t)], [], '', name);
  });
  await Promise.all(b.reads);

  const valueInfo = (t: Tensor, name: string, dyn: Map<number, string>) => ({
    name,
    elemType: onnxType(name, t.dtype),
    shape: t.shape.map((s, i) => dyn.get(i) ?? s),
  });
  const bytes = encodeOnnx({
    irVersion: IR_VERSION[opset]!,
    opsetImports: [{ domain: '', version: opset }],
    producerName: PRODUCER,
    producerVersion: PRODUCER_VERSION,
    graph: {
      name: module.constructor.name,
      nodes: b.nodes,
      initializers: b.initializers,
      inputs: inputs.map((t, i) => valueInfo(t, inputNames[i]!, inDyn[i]!)),
      outputs: outTensors.map((t, i) => valueInfo(t, outputNames[i]!, outDyn[i]!)),
    },
  });
  if (options.path !== undefined) await getPlatform().writeFile(options.path, bytes);
  return bytes;
}
