/**
 * @module nn/module — `Module`, the base of every layer and model, and `Parameter`.
 *
 * A module's members are the fields its constructor assigns, in assignment order:
 * a field holding a `Module` is a child, a field holding a tensor marked by
 * `new Parameter(t)` is a parameter, and a field named in `registerBuffer` is a
 * buffer. Keys (in `namedParameters`, `stateDict`, `toString`) are the field names
 * as the Python attribute would be spelled (`runningMean` → `running_mean`), so
 * state dicts move between PyTorch and lightning-ts unchanged.
 */
import type { Backend } from '../backend.ts';
import type { DType } from '../dtype.ts';
import { noGrad } from '../autograd.ts';
import { BackendError, LightningError, ValueError } from '../errors.ts';
import { keep } from '../memory.ts';
import { shapeString } from '../shape.ts';
import { Tensor } from '../tensor/index.ts';
import { exportOnnx, type OnnxExportOptions } from './onnx-export.ts';
import { addIndent, stateKey } from './repr.ts';

/** Options that pick where and in which dtype a layer makes its parameters, as torch's `device`/`dtype`. */
export interface FactoryOptions {
  /** The dtype of floating parameters and buffers (default float32). */
  readonly dtype?: DType;
  /** The backend to allocate on (default: the default backend). */
  readonly backend?: Backend;
}

const PARAMETERS = new WeakSet<Tensor>();
declare const parameterBrand: unique symbol;

/**
 * `Parameter` marks a tensor as a module parameter, as torch.nn.Parameter.
 *
 * `new Parameter(t)` returns `t` itself (a leaf that requires gradients), marked,
 * so a parameter is a plain `Tensor` in every op, and `p instanceof Parameter`
 * is true exactly for marked tensors. A non-leaf is detached first (sharing its
 * buffer), as torch's Parameter(data) is. Parameters are kept out of `tidy` scopes.
 * @example
 * class Scale extends Module {
 *   gain = new Parameter(ones([3]));
 *   forward(x: Tensor): Tensor { return x.mul(this.gain); }
 * }
 */
export interface Parameter extends Tensor {
  /** Type-level only: makes `Parameter` distinct from `Tensor`, so a plain tensor assigned to a parameter field does not compile. */
  readonly [parameterBrand]: true;
}
export class Parameter {
  /** Marks `data` as a parameter (`requiresGrad` default true) and returns it. */
  constructor(data: Tensor, requiresGrad = true) {
    const t = data.isLeaf ? data : noGrad(() => data.detach());
    if (requiresGrad) t.requiresGrad_(true);
    else if (t.requiresGrad) t.requiresGrad = false;
    PARAMETERS.add(t);
    keep(t);
    return t as Parameter;
  }

  /** True for tensors marked by `new Parameter`. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof Tensor && PARAMETERS.has(value);
  }
}

/**
 * True when `value` is a tensor marked by `new Parameter`.
 * @example isParameter(new Linear(2, 3).weight) // true
 */
export function isParameter(value: unknown): value is Parameter {
  return value instanceof Tensor && PARAMETERS.has(value);
}

/** Options of `registerBuffer`. */
export interface BufferOptions {
  /** Part of the state dict (default true), as torch's `persistent`. */
  readonly persistent?: boolean;
}

/** Options of `stateDict`. */
export interface StateDictOptions {
  /** Prepended to every key (default ''). */
  readonly prefix?: string;
  /** Return the module's own tensors instead of detached views of them (default false), as torch's `keep_vars`. */
  readonly keepVars?: boolean;
}

/** Options of `loadStateDict`. */
export interface LoadStateDictOptions {
  /** Missing and unexpected keys are errors (default true). A shape mismatch is always one. */
  readonly strict?: boolean;
}

/** What `loadStateDict` found, as torch's `_IncompatibleKeys`. */
export interface LoadStateDictResult {
  readonly missingKeys: string[];
  readonly unexpectedKeys: string[];
}

/** One key whose tensor does not have the model's shape. */
export interface MismatchedKey {
  readonly key: string;
  /** The shape in the model. */
  readonly expected: readonly number[];
  /** The shape in the state dict. */
  readonly got: readonly number[];
}

/**
 * `loadStateDict` found missing or unexpected keys (strict), or a tensor whose
 * shape differs from the model's (always). Lists every problem at once.
 */
export class StateDictError extends LightningError {
  readonly missingKeys: readonly string[];
  readonly unexpectedKeys: readonly string[];
  readonly mismatchedKeys: readonly MismatchedKey[];
  constructor(
    message: string,
    details: {
      missingKeys: readonly string[];
      unexpectedKeys: readonly string[];
      mismatchedKeys: readonly MismatchedKey[];
    },
  ) {
    super(message);
    this.missingKeys = details.missingKeys;
    this.unexpectedKeys = details.unexpectedKeys;
    this.mismatchedKeys = details.mismatchedKeys;
  }
}

/** A state dict as `loadStateDict` accepts it. */
export type StateDictLike = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

interface Members {
  readonly modules: [string, Module][];
  readonly params: [string, Tensor][];
  readonly buffers: [string, Tensor, boolean][];
}

/**
 * The base class of layers and models, as torch.nn.Module. Subclasses assign
 * children and parameters to fields in their constructor and define `forward`,
 * which callers invoke directly (`m.forward(x)`).
 * @example
 * class LitAutoEncoder extends Module {
 *   encoder = new Sequential(new Linear(784, 64), new ReLU(), new Linear(64, 3));
 *   decoder = new Sequential(new Linear(3, 64), new ReLU(), new Linear(64, 784));
 *   forward(x: Tensor): Tensor { return this.encoder.forward(x); }
 * }
 * new LitAutoEncoder().numParameters() // 101907
 */
export class Module {
  /** True in training mode (the default); see `train()` and `eval()`. */
  training = true;
  #bufferFields = new Map<string, boolean>();

  /** The class name that `toString` and error messages use. */
  protected getName(): string {
    return this.constructor.name;
  }

  /**
   * The one-line settings shown between the parentheses of `toString`, as torch's `extra_repr`.
   * @example new Linear(2, 3).extraRepr() // 'in_features=2, out_features=3, bias=True'
   */
  extraRepr(): string {
    return '';
  }

  /**
   * Children that are not fields (containers keep theirs in order here), after the field children.
   * @internal
   */
  protected extraChildren(): Iterable<[string, Module]> {
    return [];
  }

  #members(): Members {
    const modules: [string, Module][] = [];
    const params: [string, Tensor][] = [];
    const buffers: [string, Tensor, boolean][] = [];
    for (const [field, value] of Object.entries(this)) {
      if (value instanceof Module) modules.push([stateKey(field), value]);
      else if (value instanceof Tensor) {
        if (PARAMETERS.has(value)) params.push([stateKey(field), value]);
        else {
          const persistent = this.#bufferFields.get(field);
          if (persistent !== undefined) buffers.push([stateKey(field), value, persistent]);
        }
      }
    }
    for (const entry of this.extraChildren()) modules.push(entry);
    return { modules, params, buffers };
  }

  // ------------------------------------------------------------ registration

  /**
   * Sets field `name` to `param` marked as a parameter (null: no parameter, as torch's None).
   * @example this.registerParameter('bias', bias ? zeros([n]) : null)
   */
  registerParameter(name: string, param: Tensor | null): void {
    this.#checkName('registerParameter', name);
    (this as unknown as Record<string, unknown>)[name] = param === null ? null : new Parameter(param);
  }

  /**
   * Sets field `name` to a buffer: state that is not a parameter, such as BatchNorm's
   * running mean. Persistent buffers are part of the state dict.
   * @example this.registerBuffer('runningMean', zeros([n])) // key 'running_mean'
   */
  registerBuffer(name: string, tensor: Tensor | null, options: BufferOptions = {}): void {
    this.#checkName('registerBuffer', name);
    this.#bufferFields.set(name, options.persistent ?? true);
    (this as unknown as Record<string, unknown>)[name] = tensor === null ? null : keep(tensor);
  }

  /**
   * Sets field `name` to the child `module`, as torch's `add_module`.
   * @example this.registerModule('head', new Linear(64, 10))
   */
  registerModule(name: string, module: Module | null): void {
    this.#checkName('registerModule', name);
    (this as unknown as Record<string, unknown>)[name] = module;
  }

  #checkName(op: string, name: string): void {
    if (name === '' || name.includes('.')) {
      throw new ValueError(
        `${this.getName()}.${op}: invalid name; expected a non-empty name without '.', got ${JSON.stringify(name)}`,
      );
    }
  }

  // -------------------------------------------------------------- traversal

  /**
   * The direct children with their keys, in assignment order.
   * @example [...seq.namedChildren()].map(([k]) => k) // ['0', '1', '2']
   */
  *namedChildren(): IterableIterator<[string, Module]> {
    const seen = new Set<Module>();
    for (const [name, m] of this.#members().modules) {
      if (seen.has(m)) continue;
      seen.add(m);
      yield [name, m];
    }
  }

  /** The direct children, in assignment order. */
  *children(): IterableIterator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  /**
   * This module and every descendant, depth first, each once, with dotted keys ('' for this one).
   * @example [...model.namedModules()].map(([k]) => k) // ['', 'encoder', 'encoder.0', ...]
   */
  *namedModules(prefix = ''): IterableIterator<[string, Module]> {
    const seen = new Set<Module>();
    const stack: [string, Module][] = [[prefix, this]];
    while (stack.length > 0) {
      const [name, m] = stack.pop()!;
      if (seen.has(m)) continue;
      seen.add(m);
      yield [name, m];
      const kids = m.#members().modules;
      for (let i = kids.length - 1; i >= 0; i--) {
        const [k, child] = kids[i]!;
        stack.push([name === '' ? k : `${name}.${k}`, child]);
      }
    }
  }

  /** This module and every descendant, depth first, each once. */
  *modules(): IterableIterator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /**
   * Moves every parameter and buffer to `backend`, as torch's `module.to(device)`: each
   * field gets a new tensor on `backend` (a parameter stays a parameter, with its
   * `requiresGrad`), the values read back asynchronously (so a WebGPU source works), and
   * the old tensor is disposed. A tensor shared by two fields moves once. Optimizers hold
   * the old tensors: move before building them (the Trainer moves before configureOptimizers).
   * @example await model.toBackend(webgpu)
   */
  async toBackend(backend: Backend): Promise<this> {
    const moved = new Map<Tensor, Tensor>();
    for (const m of this.modules()) {
      const fields = m as unknown as Record<string, unknown>;
      for (const [field, value] of Object.entries(m)) {
        if (!(value instanceof Tensor) || value.backend === backend) continue;
        const isParam = PARAMETERS.has(value);
        if (!isParam && !m.#bufferFields.has(field)) continue;
        let next = moved.get(value);
        if (next === undefined) {
          const data = await value.data();
          const t = Tensor.fromArray(backend, value.dtype, value.shape, data);
          next = isParam ? new Parameter(t, value.requiresGrad) : keep(t);
          moved.set(value, next);
        }
        fields[field] = next;
      }
    }
    for (const old of moved.keys()) old.dispose();
    return this;
  }

  /**
   * Every parameter with its dotted key, each tensor once, as torch's `named_parameters`.
   * @example [...model.namedParameters()][0] // ['encoder.0.weight', Tensor [64, 784]]
   */
  *namedParameters(
    options: { readonly prefix?: string; readonly recurse?: boolean } = {},
  ): IterableIterator<[string, Parameter]> {
    const seen = new Set<Tensor>();
    const mods: Iterable<[string, Module]> =
      options.recurse === false ? [[options.prefix ?? '', this]] : this.namedModules(options.prefix ?? '');
    for (const [prefix, m] of mods) {
      for (const [name, p] of m.#members().params) {
        if (seen.has(p)) continue;
        seen.add(p);
        yield [prefix === '' ? name : `${prefix}.${name}`, p as Parameter];
      }
    }
  }

  /**
   * Every parameter, each once, in `namedParameters` order (what an optimizer takes).
   * @example new Adam(model.parameters(), { lr: 1e-3 })
   */
  parameters(options: { readonly recurse?: boolean } = {}): Parameter[] {
    return [...this.namedParameters(options)].map(([, p]) => p);
  }

  /** Every buffer with its dotted key, each tensor once, as torch's `named_buffers`. */
  *namedBuffers(
    options: { readonly prefix?: string; readonly recurse?: boolean } = {},
  ): IterableIterator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    const mods: Iterable<[string, Module]> =
      options.recurse === false ? [[options.prefix ?? '', this]] : this.namedModules(options.prefix ?? '');
    for (const [prefix, m] of mods) {
      for (const [name, b] of m.#members().buffers) {
        if (seen.has(b)) continue;
        seen.add(b);
        yield [prefix === '' ? name : `${prefix}.${name}`, b];
      }
    }
  }

  /** Every buffer, each once. */
  buffers(options: { readonly recurse?: boolean } = {}): Tensor[] {
    return [...this.namedBuffers(options)].map(([, b]) => b);
  }

  /**
   * The descendant at a dotted key, as torch's `get_submodule`.
   * @example model.getSubmodule('encoder.0') // Linear
   */
  getSubmodule(target: string): Module {
    if (target === '') return this;
    let m: Module = this;
    for (const part of target.split('.')) {
      const next = m.#members().modules.find(([k]) => k === part)?.[1];
      if (next === undefined) {
        throw new ValueError(
          `${this.getName()}.getSubmodule: no such submodule; expected a child '${part}' in ${m.getName()}, got none (target '${target}')`,
        );
      }
      m = next;
    }
    return m;
  }

  /**
   * The number of parameter elements, each tensor once.
   * @example new Linear(784, 64).numParameters() // 50240
   */
  numParameters(options: { readonly trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (options.trainableOnly !== true || p.requiresGrad) n += p.numel();
    return n;
  }

  // ------------------------------------------------------------------ modes

  /**
   * Sets training mode on this module and every descendant; returns this.
   * @example model.train(); model.training // true
   */
  train(mode = true): this {
    if (typeof mode !== 'boolean') {
      throw new ValueError(
        `${this.getName()}.train: mode must be a boolean; expected true or false, got ${String(mode)}`,
      );
    }
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /**
   * Sets evaluation mode (Dropout is the identity, BatchNorm uses running stats); returns this.
   * @example model.eval(); model.training // false
   */
  eval(): this {
    return this.train(false);
  }

  /**
   * Calls `fn` on every descendant, children first, then on this module, as torch's `apply`; returns this.
   * @example model.apply((m) => { if (m instanceof Linear) init.zeros_(m.weight); })
   */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Clears parameter gradients: drops (and frees) them with `setToNone` (the default,
   * as torch 2), else fills them with zeros.
   * @example model.zeroGrad()
   */
  zeroGrad(options: { readonly setToNone?: boolean } = {}): void {
    const setToNone = options.setToNone ?? true;
    for (const p of this.parameters()) {
      const g = p.grad;
      if (g === null) continue;
      if (setToNone) {
        p.grad = null;
        g.dispose();
      } else if (!g.isDisposed) {
        noGrad(() => g.zero_());
      }
    }
  }

  /**
   * Converts every floating parameter and buffer of this module and its descendants
   * to `dtype` (integer buffers such as num_batches_tracked stay), as torch's
   * `module.to(dtype)`; returns this. Converted parameters are new tensors, so
   * create the optimizer afterwards.
   * @example const m = new Linear(3, 2).to('float64');
   */
  to(dtype: DType): this {
    if (dtype !== 'float32' && dtype !== 'float64') {
      throw new ValueError(
        `${this.getName()}.to: only floating dtypes are supported; expected float32 or float64, got ${String(dtype)}`,
      );
    }
    for (const m of this.modules()) m.#castFields(dtype);
    return this;
  }

  /** As `to('float64')`. */
  double(): this {
    return this.to('float64');
  }
  /** As `to('float32')`. */
  float(): this {
    return this.to('float32');
  }

  #castFields(dtype: DType): void {
    const fields = this as unknown as Record<string, unknown>;
    for (const [field, value] of Object.entries(this)) {
      if (
        !(value instanceof Tensor) ||
        value.dtype === dtype ||
        (value.dtype !== 'float32' && value.dtype !== 'float64')
      )
        continue;
      if (PARAMETERS.has(value)) {
        const cast = noGrad(() => value.to(dtype));
        fields[field] = new Parameter(cast, value.requiresGrad);
        value.dispose();
      } else if (this.#bufferFields.has(field)) {
        fields[field] = keep(noGrad(() => value.to(dtype)));
        value.dispose();
      }
    }
  }

  // ------------------------------------------------------------ state dicts

  /**
   * Parameters and persistent buffers by dotted key, in PyTorch's order (each module's
   * parameters, then its buffers, then its children). Values are detached views that
   * share the module's buffers, as torch's `state_dict()`.
   * @example [...model.stateDict().keys()] // ['encoder.0.weight', 'encoder.0.bias', ...]
   */
  stateDict(options: StateDictOptions = {}): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    const keepVars = options.keepVars ?? false;
    const visit = (m: Module, prefix: string): void => {
      const members = m.#members();
      for (const [name, p] of members.params) out.set(prefix + name, keepVars ? p : noGrad(() => p.detach()));
      for (const [name, b, persistent] of members.buffers) {
        if (persistent) out.set(prefix + name, keepVars ? b : noGrad(() => b.detach()));
      }
      for (const [name, child] of members.modules) visit(child, `${prefix}${name}.`);
    };
    visit(this, options.prefix ?? '');
    return out;
  }

  /**
   * Hook for subclasses: adjust `state` (a private copy) before this module's keys
   * under `prefix` are read, as torch's `_load_from_state_dict` overrides do.
   * @internal
   */
  protected beforeLoadStateDict(state: Map<string, Tensor>, prefix: string): void {
    void state;
    void prefix;
  }

  /**
   * Copies tensors from `stateDict` into this module's parameters and buffers (in place),
   * as torch's `load_state_dict`. Returns the missing and unexpected keys; throws a
   * `StateDictError` naming every problem when `strict` (the default) and keys differ,
   * and, strict or not, when a tensor's shape differs from the model's.
   * @example
   * const { missingKeys, unexpectedKeys } = model.loadStateDict(sd, { strict: false });
   */
  loadStateDict(stateDict: StateDictLike, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const state = new Map<string, Tensor>(stateDict instanceof Map ? stateDict : Object.entries(stateDict));
    const missingKeys: string[] = [];
    const unexpectedKeys: string[] = [];
    const mismatchedKeys: MismatchedKey[] = [];
    const errors: string[] = [];
    const visit = (m: Module, prefix: string): void => {
      m.beforeLoadStateDict(state, prefix);
      const members = m.#members();
      const local: [string, Tensor][] = [
        ...members.params,
        ...members.buffers.filter(([, , p]) => p).map(([k, b]): [string, Tensor] => [k, b]),
      ];
      for (const [name, target] of local) {
        const key = prefix + name;
        if (!state.has(key)) {
          missingKeys.push(key);
          continue;
        }
        const input: unknown = state.get(key);
        if (!(input instanceof Tensor)) {
          errors.push(
            `value for ${key} is not a tensor; expected a Tensor of shape ${shapeString(target.shape)}, got ${typeof input}`,
          );
          continue;
        }
        if (!sameShape(input.shape, target.shape)) {
          mismatchedKeys.push({ key, expected: target.shape, got: input.shape });
          errors.push(
            `size mismatch for ${key}; expected ${shapeString(target.shape)} (the model's), got ${shapeString(input.shape)} (the state dict's)`,
          );
          continue;
        }
        copyInto(target, input, key);
      }
      const known = new Set<string>([...members.modules.map(([k]) => k), ...local.map(([k]) => k)]);
      for (const key of state.keys()) {
        if (!key.startsWith(prefix)) continue;
        const first = key.slice(prefix.length).split('.')[0]!;
        if (!known.has(first)) unexpectedKeys.push(key);
      }
      for (const [name, child] of members.modules) visit(child, `${prefix}${name}.`);
    };
    visit(this, '');
    if (strict) {
      if (unexpectedKeys.length > 0)
        errors.unshift(
          `unexpected key(s) in the state dict; expected none, got ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}`,
        );
      if (missingKeys.length > 0)
        errors.unshift(
          `missing key(s) in the state dict; expected ${missingKeys.map((k) => `"${k}"`).join(', ')}, got none`,
        );
    }
    if (errors.length > 0) {
      throw new StateDictError(
        `${this.getName()}.loadStateDict: error(s) in loading the state dict:\n  ${errors.join('\n  ')}`,
        { missingKeys, unexpectedKeys, mismatchedKeys },
      );
    }
    return { missingKeys, unexpectedKeys };
  }

  // ------------------------------------------------------------------ export

  /**
   * Traces `forward` on `inputSample` and returns the ONNX model (ModelProto bytes), the
   * parameters and buffers as initializers named by their state-dict keys, as Lightning's
   * `to_onnx`. The trace runs in eval mode under `noGrad` (the modes are restored after).
   * With `path` it also writes the file, atomically. A submodule exports alone.
   * @example
   * const bytes = await model.toOnnx(randn([1, 784]), { dynamicAxes: { input: { 0: 'batch' }, output: { 0: 'batch' } } });
   * await model.encoder.toOnnx(randn([1, 784]), { path: 'encoder.onnx' });
   */
  toOnnx(inputSample: Tensor | readonly Tensor[], options: OnnxExportOptions = {}): Promise<Uint8Array> {
    return exportOnnx(this, inputSample, options);
  }

  // ------------------------------------------------------------------ repr

  /**
   * The module tree as PyTorch's `repr` prints it.
   * @example String(new Sequential(new Linear(2, 3), new ReLU()))
   * // 'Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n)'
   */
  toString(): string {
    const extra = this.extraRepr();
    const extraLines = extra === '' ? [] : extra.split('\n');
    const childLines = this.#members().modules.map(([k, m]) => `(${k}): ${addIndent(m.toString(), 2)}`);
    return formatRepr(this.getName(), extraLines, childLines);
  }
}

/**
 * torch.nn.Module.__repr__'s layout: one line for one extra line and no children, else one item per line.
 * @example formatRepr('Linear', ['in_features=2, out_features=3, bias=True'], []) // 'Linear(in_features=2, out_features=3, bias=True)'
 */
export function formatRepr(name: string, extraLines: readonly string[], childLines: readonly string[]): string {
  const lines = [...extraLines, ...childLines];
  let s = `${name}(`;
  if (lines.length > 0) {
    if (extraLines.length === 1 && childLines.length === 0) s += extraLines[0]!;
    else s += `\n  ${lines.join('\n  ')}\n`;
  }
  return `${s})`;
}

/** Copies `src` into `target` in place, moving it from another backend first when it can be read synchronously. */
function copyInto(target: Tensor, src: Tensor, key: string): void {
  noGrad(() => {
    if (src.backend === target.backend) {
      target.copy_(src);
      return;
    }
    if (!src.backend.capabilities.syncReadback) {
      throw new BackendError(
        `loadStateDict: ${key} lives on backend '${src.backend.name}', which reads back asynchronously; expected a tensor on '${target.backend.name}' or a synchronous backend, got one on '${src.backend.name}'`,
      );
    }
    const moved = Tensor.fromArray(target.backend, src.dtype, src.shape, src.dataSync());
    target.copy_(moved);
    moved.dispose();
  });
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}
