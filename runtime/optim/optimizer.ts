/**
 * @module optim/optimizer — `Optimizer`, the base of SGD, Adam, AdamW and RMSprop, as
 * torch.optim.Optimizer: parameter groups with defaults filled in, per-parameter state,
 * `zeroGrad`, `step(closure)`, and a state dict laid out as PyTorch's.
 *
 * Parameter groups use TypeScript casing in memory (`weightDecay`, `initialLr`); the
 * state dict uses PyTorch's snake_case keys (`weight_decay`, `initial_lr`, `exp_avg`),
 * because it goes into checkpoints that PyTorch reads.
 */
import { enableGrad, noGrad } from '../autograd.ts';
import { ShapeError, ValueError } from '../errors.ts';
import { keep, tidy } from '../memory.ts';
import { shapeString } from '../shape.ts';
import { Tensor } from '../tensor/index.ts';

/**
 * One parameter group: its parameters and the hyperparameters that apply to them.
 * @example optimizer.paramGroups[0]!.lr = 1e-4
 */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  /** Set by LR schedulers (torch's `initial_lr`). */
  initialLr?: number;
  [option: string]: unknown;
}

/**
 * A parameter group as passed to an optimizer: `params` plus any per-group options,
 * in TypeScript casing (missing ones take the optimizer's defaults).
 * @example new Adam([{ params: enc.parameters() }, { params: dec.parameters(), lr: 1e-4 }])
 */
export interface ParamGroupInput {
  readonly params: Iterable<Tensor>;
  readonly [option: string]: unknown;
}

/** What an optimizer accepts: parameters (e.g. `module.parameters()`) or parameter groups. */
export type ParamsInput = Iterable<Tensor> | Iterable<ParamGroupInput>;

/** A value in a parameter's state: a tensor (`exp_avg`), a count (`step`) or none (`momentum_buffer` of plain SGD). */
export type StateValue = Tensor | number | null;

/** The state of one parameter, keyed with PyTorch's names (`step`, `exp_avg`, ...). */
export type ParamState = Record<string, StateValue>;

/**
 * An optimizer's state dict, as torch's `Optimizer.state_dict()`: `state` keyed by the
 * parameter's index (counted across groups in order), `param_groups` with snake_case keys
 * and `params` as those indices. The tensors are the optimizer's own (not copies), as in torch.
 * @example optimizer.stateDict().param_groups[0]!.weight_decay // 0
 */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  param_groups: Record<string, unknown>[];
}

/** The state dict `loadStateDict` accepts: `state` may be keyed by number or string (as from JSON). */
export interface OptimizerStateDictLike {
  readonly state: Readonly<Record<string | number, Readonly<Record<string, StateValue>>>>;
  readonly param_groups: readonly Readonly<Record<string, unknown>>[];
}

/** Options of `zeroGrad`. */
export interface ZeroGradOptions {
  /** Drop the gradients (`grad = null`) instead of filling them with zeros (default true). */
  readonly setToNone?: boolean;
}

/**
 * How an optimizer checks and fills its options; subclasses of `Optimizer` pass one.
 * @example const spec: OptimizerSpec = { name: 'Sign', defaults: { lr: 1e-2 }, validate: () => {}, torchOnly: {} };
 */
export interface OptimizerSpec {
  /** The class name, for error messages. */
  readonly name: string;
  /** Default of every option, in PyTorch's key order. `undefined` marks a required option (SGD's lr). */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** Throws a ValueError naming the option when a value is out of range. */
  readonly validate: (options: Readonly<Record<string, unknown>>) => void;
  /** Keys PyTorch's state dict has that this implementation fixes (`foreach: null`, `fused: false`). */
  readonly torchOnly: Readonly<Record<string, unknown>>;
  /**
   * The per-parameter state keys `loadStateDict` accepts, as torch names them. Without it any
   * key is accepted (a subclass of your own); with it, an unknown key, a missing required
   * tensor or a step that is not a count is refused before the optimizer changes.
   */
  readonly stateKeys?: StateKeys;
}

/**
 * The per-parameter state an optimizer keeps. `step` (when true) is a count; `required`
 * tensors must be present once a parameter has any state; `optional` ones may be absent or null.
 * @example const adamKeys: StateKeys = { step: true, required: ['exp_avg', 'exp_avg_sq'], optional: ['max_exp_avg_sq'] };
 */
export interface StateKeys {
  readonly step: boolean;
  readonly required: readonly string[];
  readonly optional: readonly string[];
}

/** Throws a ValueError unless `entry` (one parameter's saved state) fits `keys`. */
function checkStateEntry(name: string, index: string, entry: Readonly<Record<string, unknown>>, keys: StateKeys): void {
  const allowed = [...(keys.step ? ['step'] : []), ...keys.required, ...keys.optional];
  const present = Object.keys(entry);
  if (present.length === 0) return;
  for (const k of present) {
    if (!allowed.includes(k)) {
      throw new ValueError(
        `${name}.loadStateDict: state ${index} has an unknown key '${k}'; expected keys ${allowed.join(', ')}, got ${present.join(', ')}`,
      );
    }
  }
  for (const k of keys.required) {
    if (!(entry[k] instanceof Tensor)) {
      throw new ValueError(
        `${name}.loadStateDict: state ${index} lacks the tensor '${k}'; expected keys ${allowed.join(', ')}, got ${present.join(', ')}`,
      );
    }
  }
  for (const k of keys.optional) {
    const v = entry[k];
    if (v !== undefined && v !== null && !(v instanceof Tensor)) {
      throw new ValueError(
        `${name}.loadStateDict: state ${index} has '${k}' of the wrong kind; expected a tensor or null, got ${typeof v}`,
      );
    }
  }
  if (keys.step) {
    const step = entry['step'];
    if (step === undefined) {
      throw new ValueError(
        `${name}.loadStateDict: state ${index} lacks 'step'; expected keys ${allowed.join(', ')}, got ${present.join(', ')}`,
      );
    }
  }
}

/** Option keys every group may carry besides the optimizer's own: those LR schedulers set. */
const SCHEDULER_KEYS = new Set(['initialLr', 'maxLr', 'minLr', 'maxMomentum', 'baseMomentum']);

/**
 * `weightDecay` → `weight_decay`.
 * @example toSnake('initialLr') // 'initial_lr'
 */
export function toSnake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * `weight_decay` → `weightDecay`.
 * @example toCamel('max_exp_avg_sq') // 'maxExpAvgSq'
 */
export function toCamel(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function isGroupInput(value: unknown): value is ParamGroupInput {
  return typeof value === 'object' && value !== null && !(value instanceof Tensor) && 'params' in value;
}

/** Throws unless `value` is a finite-or-infinite number satisfying `ok`. @internal */
export function checkNumber(
  owner: string,
  what: string,
  expected: string,
  value: unknown,
  ok: (v: number) => boolean,
): void {
  if (typeof value !== 'number' || Number.isNaN(value) || !ok(value)) {
    throw new ValueError(`${owner}: invalid ${what}; expected ${expected}, got ${String(value)}`);
  }
}

/** Throws unless `value` is a boolean. @internal */
export function checkBoolean(owner: string, key: string, value: unknown): void {
  if (typeof value !== 'boolean') {
    throw new ValueError(`${owner}: invalid ${key}; expected true or false, got ${String(value)}`);
  }
}

/**
 * The base class of optimizers, as torch.optim.Optimizer. Subclasses implement
 * `update()`, which runs under `noGrad` inside a `tidy` scope: temporaries are freed,
 * and state tensors must be made with `keep` (see `newState`).
 * @example
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 * opt.zeroGrad();
 * loss.backward();
 * opt.step();
 */
export abstract class Optimizer<G extends ParamGroup = ParamGroup> {
  /** The groups, each with every option filled in. */
  paramGroups: G[] = [];
  /** Per-parameter state, keyed with PyTorch's names. */
  readonly state = new Map<Tensor, ParamState>();
  /** The options groups inherit when they do not set them. */
  readonly defaults: Readonly<Record<string, unknown>>;
  readonly #spec: OptimizerSpec;

  /** @internal Subclasses pass their spec and the user's options. */
  protected constructor(spec: OptimizerSpec, params: ParamsInput, options: Readonly<Record<string, unknown>>) {
    this.#spec = spec;
    this.#checkKeys(options, 'option');
    const defaults: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(spec.defaults)) defaults[k] = options[k] ?? v;
    this.defaults = defaults;
    if (defaults['lr'] !== undefined) spec.validate(defaults);
    const list = [...params];
    if (list.length === 0) {
      throw new ValueError(`${spec.name}: got an empty parameter list; expected at least one parameter, got none`);
    }
    const groups: ParamGroupInput[] = list.every(isGroupInput)
      ? (list as ParamGroupInput[])
      : [{ params: list as Tensor[] }];
    for (const g of groups) this.addParamGroup(g);
  }

  /** The class name, as in error messages. */
  get name(): string {
    return this.#spec.name;
  }

  #checkKeys(options: Readonly<Record<string, unknown>>, what: string): void {
    for (const key of Object.keys(options)) {
      if (key === 'params' && what === 'group option') continue;
      if (!(key in this.#spec.defaults) && !(what === 'group option' && SCHEDULER_KEYS.has(key))) {
        throw new ValueError(
          `${this.#spec.name}: unknown ${what} '${key}'; expected one of ${Object.keys(this.#spec.defaults).join(', ')}, got '${key}'`,
        );
      }
    }
  }

  /**
   * Adds a group; options it leaves out take the defaults, as torch's `add_param_group`.
   * @example opt.addParamGroup({ params: head.parameters(), lr: 1e-2 })
   */
  addParamGroup(group: ParamGroupInput): void {
    const name = this.#spec.name;
    this.#checkKeys(group, 'group option');
    const params = group.params instanceof Tensor ? [group.params] : [...group.params];
    for (const p of params) {
      if (!(p instanceof Tensor)) {
        throw new ValueError(`${name}: can only optimize tensors; expected a Tensor, got ${typeof p}`);
      }
      if (!p.isLeaf) {
        throw new ValueError(
          `${name}: can't optimize a non-leaf tensor; expected a leaf (a parameter), got a tensor made by '${p.gradFn?.name ?? '?'}'`,
        );
      }
    }
    if (new Set(params).size !== params.length) {
      throw new ValueError(
        `${name}: a parameter group contains the same parameter twice; expected distinct parameters, got ${params.length - new Set(params).size} repeated`,
      );
    }
    const filled: Record<string, unknown> = { params };
    for (const [k, v] of Object.entries(this.defaults)) {
      const value = group[k] ?? v;
      if (value === undefined) {
        throw new ValueError(
          `${name}: parameter group didn't specify a value of required optimization parameter ${k}; expected a number, got undefined`,
        );
      }
      filled[k] = Array.isArray(value) ? [...(value as unknown[])] : value;
    }
    for (const k of SCHEDULER_KEYS) if (group[k] !== undefined) filled[k] = group[k];
    this.#spec.validate(filled);
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => seen.has(p))) {
      throw new ValueError(
        `${name}: some parameters appear in more than one parameter group; expected each parameter in one group, got a repeat`,
      );
    }
    this.paramGroups.push(filled as G);
  }

  /**
   * Clears the gradients of every parameter: drops them (default) or fills them with zeros.
   * (torch 2 defaults `set_to_none` to true; torch 1.13 to false.)
   * @example opt.zeroGrad({ setToNone: false })
   */
  zeroGrad(options: ZeroGradOptions = {}): void {
    const setToNone = options.setToNone ?? true;
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.grad === null) continue;
        if (setToNone) {
          p.grad.dispose();
          p.grad = null;
        } else {
          noGrad(() => p.grad!.zero_());
        }
      }
    }
  }

  /**
   * One update of every parameter that has a gradient. A `closure` that recomputes the loss
   * runs first with gradients on, and its result is returned, as torch's `step(closure)`.
   * @example opt.step(); // or: const loss = opt.step(() => { opt.zeroGrad(); const l = lossFn(); l.backward(); return l; });
   */
  step<T = undefined>(closure?: () => T): T | undefined {
    const loss = closure === undefined ? undefined : enableGrad(closure);
    if (typeof (loss as { then?: unknown } | undefined)?.then === 'function') {
      // The update would run before the closure's backward finished.
      throw new ValueError(
        `${this.#spec.name}.step: the closure returned a Promise; expected a synchronous closure (await the loss first, then call step()), got a Promise`,
      );
    }
    noGrad(() =>
      tidy(() => {
        this.update();
      }),
    );
    return loss;
  }

  /** Applies one update to every group; runs under noGrad in a tidy scope. @internal */
  protected abstract update(): void;

  /** The state of `p`, created empty on first use. @internal */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (s === undefined) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

  /** A state tensor that outlives the step's scope. @internal */
  protected newState(t: Tensor): Tensor {
    return keep(t);
  }

  /**
   * The state as PyTorch's `state_dict()` lays it out (see `OptimizerStateDict`).
   * `step` is a number (torch 1.13 keeps a tensor there and accepts either on load).
   * @example JSON.stringify(opt.stateDict().param_groups)
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups: Record<string, unknown>[] = [];
    for (const g of this.paramGroups) {
      const packed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) {
        if (k === 'params' || v === undefined) continue;
        packed[toSnake(k)] = Array.isArray(v) ? [...(v as unknown[])] : v;
      }
      for (const [k, v] of Object.entries(this.#spec.torchOnly)) if (!(k in packed)) packed[k] = v;
      packed['params'] = g.params.map((p) => {
        const i = index.get(p) ?? index.size;
        index.set(p, i);
        return i;
      });
      paramGroups.push(packed);
    }
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, param_groups: paramGroups };
  }

  /**
   * Restores `stateDict()` output (ours, or PyTorch's with tensors converted): group options
   * and per-parameter state, copying the tensors into this optimizer's dtype and backend.
   * The groups must match in number and size.
   * @example opt.loadStateDict(checkpoint.optimizer_states[0])
   */
  loadStateDict(sd: OptimizerStateDictLike): void {
    const name = this.#spec.name;
    const saved = sd.param_groups;
    if (!Array.isArray(saved) || typeof sd.state !== 'object' || sd.state === null) {
      throw new ValueError(
        `${name}.loadStateDict: not an optimizer state dict; expected { state, param_groups }, got ${Object.keys(sd).join(', ')}`,
      );
    }
    if (saved.length !== this.paramGroups.length) {
      throw new ValueError(
        `${name}.loadStateDict: loaded state dict has a different number of parameter groups; expected ${this.paramGroups.length}, got ${saved.length}`,
      );
    }
    const savedIds: unknown[][] = saved.map((g) => (Array.isArray(g['params']) ? (g['params'] as unknown[]) : []));
    this.paramGroups.forEach((g, i) => {
      if (savedIds[i]!.length !== g.params.length) {
        throw new ValueError(
          `${name}.loadStateDict: loaded state dict contains a parameter group that doesn't match the size of optimizer's group ${i}; expected ${g.params.length} parameters, got ${savedIds[i]!.length}`,
        );
      }
    });
    const idMap = new Map<string, Tensor>();
    savedIds.forEach((ids, gi) => ids.forEach((id, j) => idMap.set(String(id), this.paramGroups[gi]!.params[j]!)));
    // Build everything first, so a bad entry leaves this optimizer unchanged.
    const newState = new Map<Tensor, ParamState>();
    try {
      for (const [key, entry] of Object.entries(sd.state)) {
        const p = idMap.get(key);
        if (p === undefined) {
          throw new ValueError(
            `${name}.loadStateDict: state for a parameter not in any group; expected one of the indices ${[...idMap.keys()].join(', ')}, got ${key}`,
          );
        }
        if (typeof entry !== 'object' || entry === null) {
          throw new ValueError(
            `${name}.loadStateDict: state ${key} is not a record; expected { step, ... }, got ${entry === null ? 'null' : typeof entry}`,
          );
        }
        const keys = this.#spec.stateKeys;
        if (keys !== undefined) checkStateEntry(name, key, entry, keys);
        const s: ParamState = {};
        for (const [k, v] of Object.entries(entry)) s[k] = adoptState(name, k, v, p);
        const step = s['step'];
        if (keys?.step === true && typeof step === 'number' && !(Number.isInteger(step) && step >= 0)) {
          throw new ValueError(
            `${name}.loadStateDict: state ${key} has an invalid step; expected an integer >= 0, got ${step}`,
          );
        }
        newState.set(p, s);
      }
    } catch (e) {
      for (const s of newState.values()) disposeState(s);
      throw e;
    }
    const groups = this.paramGroups.map((g, i) => {
      const next: Record<string, unknown> = { params: g.params };
      for (const [k, v] of Object.entries(saved[i]!)) {
        if (k === 'params' || k in this.#spec.torchOnly) continue;
        next[toCamel(k)] = Array.isArray(v) ? [...(v as unknown[])] : v;
      }
      for (const [k, v] of Object.entries(this.defaults)) if (next[k] === undefined) next[k] = v;
      this.#spec.validate(next);
      return next as G;
    });
    for (const s of this.state.values()) disposeState(s);
    this.state.clear();
    for (const [p, s] of newState) this.state.set(p, s);
    this.paramGroups = groups;
  }

  /** Frees every state tensor; the optimizer starts afresh on its next step. */
  resetState(): void {
    for (const s of this.state.values()) disposeState(s);
    this.state.clear();
  }
}

function disposeState(s: ParamState): void {
  for (const v of Object.values(s)) if (v instanceof Tensor) v.dispose();
}

/** A loaded state value as this optimizer keeps it: tensors copied to the parameter's dtype and backend, `step` as a number. */
function adoptState(name: string, key: string, value: unknown, p: Tensor): StateValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  if (!(value instanceof Tensor)) {
    throw new ValueError(
      `${name}.loadStateDict: state '${key}' has an unsupported value; expected a tensor, a number or null, got ${typeof value}`,
    );
  }
  if (key === 'step') {
    if (value.numel() !== 1 || !value.backend.capabilities.syncReadback) {
      throw new ValueError(
        `${name}.loadStateDict: state 'step' must be a number or a one-element tensor with synchronous readback; expected a count, got shape ${shapeString(value.shape)} on '${value.backend.name}'`,
      );
    }
    return value.dataSync()[0]!;
  }
  if (
    value.numel() !== p.numel() ||
    value.shape.length !== p.shape.length ||
    value.shape.some((s, i) => s !== p.shape[i])
  ) {
    throw new ShapeError(
      `${name}.loadStateDict: state '${key}' does not have its parameter's shape; expected ${shapeString(p.shape)}, got ${shapeString(value.shape)}`,
    );
  }
  return keep(
    noGrad(() =>
      tidy(() => {
        if (value.backend === p.backend) return value.to(p.dtype).clone();
        if (!value.backend.capabilities.syncReadback) {
          throw new ValueError(
            `${name}.loadStateDict: state '${key}' lives on backend '${value.backend.name}' without synchronous readback; expected it on '${p.backend.name}', got '${value.backend.name}'`,
          );
        }
        return Tensor.fromArray(p.backend, value.dtype, value.shape, value.dataSync()).to(p.dtype).clone();
      }),
    ),
  );
}
