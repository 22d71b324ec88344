/**
 * @module inference/onnx-session — run an ONNX file without the module's class: an interpreter
 * over the tensor layer for the operators `toOnnx` writes and torch.onnx.export writes for the
 * same models (opsets 13-20; the table is inference/onnx-ops.ts).
 *
 * `create` decodes the file as hostile input (io/onnx.ts, with its `maxBytes` bound), checks
 * every node before anything runs (operator, attributes, inputs defined before use) and uploads
 * the initializers and Constant nodes once. `run` checks the feeds against the graph's declared
 * inputs, runs the nodes in file order (ONNX requires a topological order) under `noGrad`,
 * each in a `tidy` scope, and frees every intermediate after its last use. What a file can make
 * it allocate is bounded: each tensor a node makes by `maxElements`, each matmul or
 * convolution by `maxMultiplyAdds`, checked before the op runs.
 *
 * int64 values (shapes, indices, ArgMax) are int32 tensors; an int64 constant outside the int32
 * range (Slice's INT64_MAX "to the end") keeps its exact value for the ops that read it on the
 * host, and is an error only if a device op would consume it.
 */
import { noGrad } from '../autograd.ts';
import type { Backend } from '../backend.ts';
import type { StorageArray } from '../dtype.ts';
import { ValueError } from '../errors.ts';
import { FormatError, LimitError } from '../io/errors.ts';
import type { BytesInput } from '../io/bytes.ts';
import { decodeOnnx, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from '../io/onnx.ts';
import { keep, tidy } from '../memory.ts';
import { numelOf, shapeString } from '../shape.ts';
import { backendOr, Tensor } from '../tensor/index.ts';
import { describeNode, OnnxInputError, OnnxNodeError, OnnxUnsupportedError, type OnnxNodeRef } from './onnx-errors.ts';
import {
  Attrs,
  ONNX_ELEM_DTYPE,
  ONNX_OPS,
  type OpSpec,
  type RunContext,
  SUPPORTED_ONNX_OPS,
  tensorValues,
} from './onnx-ops.ts';

export {
  OnnxInputError,
  OnnxNodeError,
  OnnxUnsupportedError,
  type OnnxNodeRef,
} from './onnx-errors.ts';
export { SUPPORTED_ONNX_OPS } from './onnx-ops.ts';

/** Options of {@link OnnxSession.create}. */
export interface OnnxSessionOptions {
  /** Where the weights live and the graph runs (default: the default backend). */
  readonly backend?: Backend;
  /** The most elements of any tensor a node makes, im2col columns included (default 2^28). */
  readonly maxElements?: number;
  /** The most multiply-adds of one MatMul, Gemm or Conv (default 2^36). */
  readonly maxMultiplyAdds?: number;
  /** The most tensor bytes the decoder materialises (decodeOnnx's `maxBytes`; default as there). */
  readonly maxBytes?: number;
}

/** The opsets of the default domain this interpreter runs. */
const OPSETS = [13, 20] as const;
/** Constants up to this many values keep a host copy, so shape, axes and bound inputs need no readback. */
const HOST_COPY = 4096;
/** A host-read input (a shape, axes, bounds) may hold at most this many values. */
const MAX_HOST_READ = 1024;
const WHOLE_MODEL: OnnxNodeRef = { opType: '', nodeName: '', nodeIndex: -1 };

interface Step {
  readonly ref: OnnxNodeRef;
  readonly spec: OpSpec;
  readonly params: unknown;
  readonly inputs: readonly string[];
  /** The one output's name ('' when nothing reads it by name). */
  readonly output: string;
  /** Names freed after this step: intermediates whose last reader it is. */
  frees: string[];
}

function unsupported(message: string, ref: OnnxNodeRef, attribute: string | null = null): never {
  throw new OnnxUnsupportedError(message, ref, attribute);
}

function dimsString(shape: readonly (number | string)[]): string {
  return `[${shape.map((d) => (d === '' ? '?' : String(d))).join(', ')}]`;
}

/** A TensorProto of a supported type as a tensor on `backend`; `saturated` when an int64 left the int32 range. */
function upload(t: OnnxTensor, backend: Backend, ref: OnnxNodeRef): { tensor: Tensor; saturated: boolean } {
  const dtype = ONNX_ELEM_DTYPE[t.dataType];
  if (dtype === undefined) {
    unsupported(
      `onnx: tensor '${t.name}' has an unsupported element type; expected float (1), int32 (6), int64 (7), bool (9) or double (11), got ${t.dataType}`,
      ref,
    );
  }
  // rawData is little-endian, as every engine this runs on: a copy, aligned, read as its type.
  const raw = t.rawData.slice().buffer;
  let data: StorageArray;
  let saturated = false;
  if (t.dataType === 7) {
    const wide = new BigInt64Array(raw);
    data = new Int32Array(wide.length);
    for (let i = 0; i < wide.length; i++) {
      const v = wide[i]!;
      const s = v > 2147483647n ? 2147483647 : v < -2147483648n ? -2147483648 : Number(v);
      saturated ||= BigInt(s) !== v;
      data[i] = s;
    }
  } else if (dtype === 'bool') data = new Uint8Array(raw).map((b) => (b === 0 ? 0 : 1));
  else if (dtype === 'float32') data = new Float32Array(raw);
  else if (dtype === 'float64') data = new Float64Array(raw);
  else data = new Int32Array(raw);
  return { tensor: keep(Tensor.fromArray(backend, dtype, t.dims, data)), saturated };
}

/** A Constant node's value as a TensorProto (value, value_float(s), value_int(s)). */
function constantValue(node: OnnxNode, ref: OnnxNodeRef): OnnxTensor {
  if (node.attributes.length !== 1) {
    unsupported(
      `onnx: Constant at ${describeNode(ref)} needs exactly one value attribute; expected one of value, value_float, value_floats, value_int, value_ints, got ${node.attributes.length}`,
      ref,
    );
  }
  const a = node.attributes[0]!;
  const name = node.outputs[0] ?? '';
  const bytes = (values: readonly number[], type: 1 | 7): Uint8Array => {
    const out = new Uint8Array(values.length * (type === 1 ? 4 : 8));
    const v = new DataView(out.buffer);
    values.forEach((x, i) => (type === 1 ? v.setFloat32(i * 4, x, true) : v.setBigInt64(i * 8, BigInt(x), true)));
    return out;
  };
  if (a.name === 'value' && a.type === 'tensor') return { ...a.value, name };
  if (a.name === 'value_float' && a.type === 'float')
    return { name, dataType: 1, dims: [], rawData: bytes([a.value], 1) };
  if (a.name === 'value_floats' && a.type === 'floats')
    return { name, dataType: 1, dims: [a.value.length], rawData: bytes(a.value, 1) };
  if (a.name === 'value_int' && a.type === 'int') return { name, dataType: 7, dims: [], rawData: bytes([a.value], 7) };
  if (a.name === 'value_ints' && a.type === 'ints')
    return { name, dataType: 7, dims: [a.value.length], rawData: bytes(a.value, 7) };
  return unsupported(
    `onnx: unsupported attribute '${a.name}' of Constant at ${describeNode(ref)}; expected value, value_float, value_floats, value_int or value_ints, got '${a.name}' (${a.type})`,
    ref,
    a.name,
  );
}

/**
 * An ONNX model loaded for inference: its weights on one backend and its nodes checked.
 * @example
 * const session = await OnnxSession.create(await readFile('model.onnx'));
 * const { output } = await session.run({ input: tensor(images).reshape([-1, 784]) });
 * session.inputNames // ['input']
 */
export class OnnxSession {
  /** The inputs a run must feed, in the graph's order. */
  readonly inputNames: readonly string[];
  /** The outputs a run returns, in the graph's order. */
  readonly outputNames: readonly string[];
  /** The graph's declared inputs (element type and shape; a string dim is a dim_param). */
  readonly inputs: readonly OnnxValueInfo[];
  /** The graph's declared outputs. */
  readonly outputs: readonly OnnxValueInfo[];
  /** The default-domain opset the file imports. */
  readonly opset: number;
  readonly backend: Backend;
  readonly #steps: readonly Step[];
  readonly #constants: Map<string, Tensor>;
  readonly #hostValues: Map<string, readonly number[]>;
  readonly #saturated: Set<string>;
  readonly #maxElements: number;
  readonly #maxWork: number;
  #disposed = false;

  private constructor(bytes: BytesInput, options: OnnxSessionOptions) {
    const limit = (name: string, v: number | undefined, dflt: number): number => {
      if (v === undefined) return dflt;
      if (typeof v !== 'number' || !(v >= 0)) {
        throw new ValueError(`OnnxSession.create: invalid ${name} option; expected a number >= 0, got ${String(v)}`);
      }
      return v;
    };
    this.#maxElements = limit('maxElements', options.maxElements, 2 ** 28);
    this.#maxWork = limit('maxMultiplyAdds', options.maxMultiplyAdds, 2 ** 36);
    const model = decodeOnnx(bytes, options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes });
    const opset = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
    if (opset === undefined || opset < OPSETS[0] || opset > OPSETS[1]) {
      unsupported(
        `onnx: unsupported opset; expected a default-domain opset from ${OPSETS[0]} to ${OPSETS[1]}, got ${opset ?? 'none'}`,
        WHOLE_MODEL,
      );
    }
    this.opset = opset;
    this.backend = backendOr(options.backend);
    const g = model.graph;
    this.#constants = new Map();
    this.#hostValues = new Map();
    this.#saturated = new Set();
    try {
      const initialized = new Set(g.initializers.map((t) => t.name));
      for (const v of g.inputs) {
        if (ONNX_ELEM_DTYPE[v.elemType] === undefined && !initialized.has(v.name)) {
          unsupported(
            `onnx: graph input '${v.name}' has an unsupported element type; expected float (1), int32 (6), int64 (7), bool (9) or double (11), got ${v.elemType}`,
            WHOLE_MODEL,
          );
        }
      }
      this.inputs = g.inputs;
      this.outputs = g.outputs;
      this.inputNames = g.inputs.filter((v) => !initialized.has(v.name)).map((v) => v.name);
      this.outputNames = g.outputs.map((v) => v.name);
      for (const t of g.initializers) this.#addConstant(t.name, t, WHOLE_MODEL);
      this.#steps = this.#plan(g.nodes, new Set([...g.inputs.map((v) => v.name), ...initialized]));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /**
   * Loads `bytes` (an ONNX ModelProto) for inference on `options.backend`.
   * @example const session = await OnnxSession.create(bytes, { backend: wasm });
   */
  static async create(bytes: BytesInput, options: OnnxSessionOptions = {}): Promise<OnnxSession> {
    return new OnnxSession(bytes, options);
  }

  #addConstant(name: string, t: OnnxTensor, ref: OnnxNodeRef): void {
    const { tensor, saturated } = upload(t, this.backend, ref);
    this.#constants.get(name)?.dispose();
    this.#constants.set(name, tensor);
    if (saturated) this.#saturated.add(name);
    if (numelOf(t.dims) <= HOST_COPY) this.#hostValues.set(name, tensorValues(t));
  }

  /** Checks every node and folds Constant nodes; returns the steps with the names each frees. */
  #plan(nodes: readonly OnnxNode[], defined: Set<string>): Step[] {
    const steps: Step[] = [];
    const lastUse = new Map<string, number>();
    const produced = new Set<string>();
    nodes.forEach((node, nodeIndex) => {
      const ref: OnnxNodeRef = { opType: node.opType, nodeName: node.name, nodeIndex };
      const where = `${node.opType} at ${describeNode(ref)}`;
      for (const name of node.inputs) {
        if (name !== '' && !defined.has(name)) {
          throw new FormatError(
            `onnx: ${where} reads '${name}' before any node, input or initializer defines it; expected nodes in topological order, got an undefined name`,
          );
        }
        if (name !== '') lastUse.set(name, steps.length);
      }
      const named = node.outputs.filter((o) => o !== '');
      if (node.outputs.slice(1).some((o) => o !== '')) {
        unsupported(
          `onnx: ${where} asks for ${node.outputs.length} outputs; expected only the first (optional outputs are not produced), got ${node.outputs.map((o) => `'${o}'`).join(', ')}`,
          ref,
        );
      }
      for (const o of named) {
        if (defined.has(o)) {
          throw new FormatError(
            `onnx: ${where} redefines '${o}'; expected each name defined once, got a second definition`,
          );
        }
        defined.add(o);
      }
      if (node.domain !== '' && node.domain !== 'ai.onnx') {
        unsupported(
          `onnx: operator '${node.domain}.${node.opType}' is not supported (${describeNode(ref)}); expected the default ONNX domain, got '${node.domain}'`,
          ref,
        );
      }
      if (node.opType === 'Constant') {
        if (node.inputs.length > 0 || named.length !== 1)
          throw new FormatError(
            `onnx: ${where} must have no inputs and one output; expected 0 and 1, got ${node.inputs.length} and ${named.length}`,
          );
        this.#addConstant(named[0]!, constantValue(node, ref), ref);
        return;
      }
      const spec = ONNX_OPS[node.opType];
      if (spec === undefined) {
        unsupported(
          `onnx: operator '${node.opType}' is not supported (${describeNode(ref)}); expected one of ${SUPPORTED_ONNX_OPS.join(', ')}, got '${node.opType}'`,
          ref,
        );
      }
      const [min, max] = spec.inputs;
      if (node.inputs.length < min || node.inputs.length > max) {
        throw new FormatError(
          `onnx: ${where} has the wrong number of inputs; expected ${min === max ? min : `${min} to ${max}`}, got ${node.inputs.length}`,
        );
      }
      const known = spec.attrs ?? [];
      for (const a of node.attributes) {
        if (!known.includes(a.name)) {
          unsupported(
            `onnx: unsupported attribute '${a.name}' of ${where}; expected ${known.length === 0 ? 'no attributes' : `one of ${known.join(', ')}`}, got '${a.name}'`,
            ref,
            a.name,
          );
        }
      }
      const attrs = new Attrs(ref, node.attributes);
      const params = spec.prepare === undefined ? undefined : spec.prepare(attrs);
      steps.push({ ref, spec, params, inputs: node.inputs, output: named[0] ?? '', frees: [] });
      produced.add(named[0] ?? '');
    });
    const outputs = new Set(this.outputNames);
    for (const o of outputs) {
      if (!defined.has(o))
        throw new FormatError(
          `onnx: graph output '${o}' is never defined; expected a node, input or initializer of that name, got none`,
        );
    }
    // An intermediate is freed by its last reader, or at once when nothing reads it.
    steps.forEach((s, i) => {
      if (!outputs.has(s.output) && !lastUse.has(s.output)) s.frees.push(s.output);
      for (const name of new Set(s.inputs)) {
        if (produced.has(name) && !outputs.has(name) && lastUse.get(name) === i) s.frees.push(name);
      }
    });
    return steps;
  }

  /**
   * Runs the graph on `feeds` (one tensor per input name, on this session's backend); resolves
   * to every graph output by name. The tensors returned are the caller's to dispose.
   * @example const { output } = await session.run({ input: x });
   */
  async run(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>> {
    if (this.#disposed)
      throw new OnnxInputError(
        'OnnxSession.run: the session is disposed; expected a live session, got a disposed one',
        { input: '', expected: 'a live session', got: 'disposed' },
      );
    this.#checkFeeds(feeds);
    const env = new Map<string, Tensor>(this.#constants);
    for (const [k, v] of Object.entries(feeds)) env.set(k, v);
    const made = new Map<string, Tensor>();
    try {
      for (const step of this.#steps) {
        const host = await this.#readHost(step, env);
        const ins = step.inputs.map((n) => (n === '' ? null : env.get(n)!));
        let out = this.#runStep(step, ins, host);
        if (ins.includes(out)) out = out.detach();
        made.set(step.output, out);
        env.set(step.output, out);
        for (const name of step.frees) {
          made.get(name)?.dispose();
          made.delete(name);
          env.delete(name);
        }
      }
      const result: Record<string, Tensor> = {};
      for (const name of this.outputNames) {
        const t = env.get(name)!;
        // A constant or a feed is returned as a view, so disposing the output spares the original.
        result[name] = made.get(name) === t ? t : t.detach();
        made.delete(name);
      }
      return result;
    } finally {
      for (const t of made.values()) t.dispose();
    }
  }

  #runStep(step: Step, ins: readonly (Tensor | null)[], host: readonly (readonly number[] | null)[]): Tensor {
    const { ref } = step;
    const where = `${ref.opType} at ${describeNode(ref)}`;
    const ctx: RunContext = {
      ref,
      budget: (shape, what = 'output') => {
        const n = typeof shape === 'number' ? shape : numelOf(shape);
        if (!(n <= this.#maxElements))
          throw new LimitError('onnx', `the ${what} of ${where}`, 'maxElements', this.#maxElements, n, 'elements');
      },
      work: (n) => {
        if (!(n <= this.#maxWork))
          throw new LimitError('onnx', `${where}`, 'maxMultiplyAdds', this.#maxWork, n, 'multiply-adds');
      },
      fail: (what, expected, got) => {
        throw new OnnxNodeError(`onnx: ${where}: ${what}; expected ${expected}, got ${got}`, ref);
      },
    };
    step.inputs.forEach((name, i) => {
      if (this.#saturated.has(name) && !(step.spec.host ?? []).includes(i)) {
        ctx.fail(
          `int64 constant '${name}' is outside the int32 range tensors hold`,
          'values in [-2^31, 2^31)',
          'a larger value',
        );
      }
    });
    try {
      return noGrad(() => tidy(() => step.spec.run(ins, step.params, ctx, host)));
    } catch (e) {
      if (e instanceof OnnxNodeError || e instanceof LimitError) throw e;
      const message = e instanceof Error ? e.message : String(e);
      throw new OnnxNodeError(`onnx: ${where} failed: ${message}`, ref, { cause: e });
    }
  }

  /** The values of a step's host inputs: a constant's copy, or read back from the backend. */
  async #readHost(step: Step, env: Map<string, Tensor>): Promise<(readonly number[] | null)[]> {
    const out: (readonly number[] | null)[] = step.inputs.map(() => null);
    for (const i of step.spec.host ?? []) {
      const name = step.inputs[i];
      if (name === undefined || name === '') continue;
      const copy = this.#hostValues.get(name);
      if (copy !== undefined) {
        out[i] = copy;
        continue;
      }
      const t = env.get(name)!;
      if (t.numel() > MAX_HOST_READ) {
        throw new OnnxNodeError(
          `onnx: ${step.ref.opType} at ${describeNode(step.ref)}: input ${i} ('${name}') is too large for a shape, axes or bound; expected at most ${MAX_HOST_READ} values, got ${t.numel()}`,
          step.ref,
        );
      }
      out[i] = Array.from(await t.data(), Number);
    }
    return out;
  }

  #checkFeeds(feeds: Readonly<Record<string, Tensor>>): void {
    const fail = (input: string, what: string, expected: string, got: string): never => {
      throw new OnnxInputError(`OnnxSession.run: input '${input}' ${what}; expected ${expected}, got ${got}`, {
        input,
        expected,
        got,
      });
    };
    if (typeof feeds !== 'object' || feeds === null) {
      throw new OnnxInputError(
        `OnnxSession.run: feeds must be an object of tensors by input name; expected { ${this.inputNames.join(', ')} }, got ${String(feeds)}`,
        { input: '', expected: this.inputNames.join(', '), got: String(feeds) },
      );
    }
    const declared = new Map(this.inputs.map((v) => [v.name, v]));
    for (const name of Object.keys(feeds)) {
      if (!declared.has(name))
        fail(
          name,
          'is not an input of the graph',
          `one of ${this.inputNames.map((n) => `'${n}'`).join(', ')}`,
          `'${name}'`,
        );
    }
    const bound = new Map<string, [number, string]>();
    for (const v of this.inputs) {
      const t = feeds[v.name];
      const want = dimsString(v.shape);
      if (t === undefined) {
        if (this.#constants.has(v.name)) continue;
        return fail(v.name, 'is missing', `a tensor of shape ${want}`, 'none');
      }
      if (!(t instanceof Tensor)) fail(v.name, 'is not a Tensor', `a tensor of shape ${want}`, typeof t);
      if (t.backend !== this.backend)
        fail(v.name, 'is on another backend', `a tensor on '${this.backend.name}'`, `one on '${t.backend.name}'`);
      const dtype = ONNX_ELEM_DTYPE[v.elemType];
      if (dtype !== undefined && t.dtype !== dtype) {
        fail(
          v.name,
          'has the wrong dtype',
          `${dtype}${v.elemType === 7 ? ' (int64 inputs are fed as int32)' : ''}`,
          t.dtype,
        );
      }
      if (t.dim() !== v.shape.length) fail(v.name, 'has the wrong rank', want, shapeString(t.shape));
      v.shape.forEach((d, i) => {
        const got = t.shape[i]!;
        if (typeof d === 'number' && d !== got) fail(v.name, 'has the wrong shape', want, shapeString(t.shape));
        if (typeof d !== 'string' || d === '') return;
        const seen = bound.get(d);
        if (seen === undefined) bound.set(d, [got, v.name]);
        else if (seen[0] !== got)
          fail(
            v.name,
            'has the wrong shape',
            `${want} with ${d} = ${seen[0]} (from input '${seen[1]}')`,
            shapeString(t.shape),
          );
      });
    }
  }

  /** Frees the weights; the session cannot run afterwards. */
  dispose(): void {
    this.#disposed = true;
    for (const t of this.#constants.values()) t.dispose();
    this.#constants.clear();
  }
}
