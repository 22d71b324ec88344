/**
 * @module nn/containers — Sequential, ModuleList and ModuleDict, as in torch.nn.
 */
import { IndexError, ValueError } from '../errors.ts';
import type { Tensor } from '../tensor/index.ts';
import { Module, formatRepr } from './module.ts';
import { addIndent } from './repr.ts';

/** A module whose `forward` maps one tensor to one tensor, as `Sequential` chains them. */
export interface TensorModule extends Module {
  forward(input: Tensor): Tensor;
}

function checkIndex(owner: string, i: number, length: number): number {
  const j = i < 0 ? i + length : i;
  if (!Number.isInteger(i) || j < 0 || j >= length) {
    throw new IndexError(`${owner}: index out of range; expected ${-length} <= index < ${length}, got ${i}`);
  }
  return j;
}

/**
 * Modules run one after another, keyed 0, 1, 2, ..., as torch.nn.Sequential.
 * @example
 * const encoder = new Sequential(new Linear(784, 64), new ReLU(), new Linear(64, 3));
 * encoder.forward(randn([8, 784])).shape // [8, 3]
 */
export class Sequential extends Module {
  #items: TensorModule[];

  constructor(...modules: TensorModule[]) {
    super();
    for (const m of modules) {
      if (!(m instanceof Module))
        throw new ValueError(`Sequential: every item must be a Module; expected a Module, got ${String(m)}`);
    }
    this.#items = [...modules];
  }

  protected override extraChildren(): Iterable<[string, Module]> {
    return this.#items.map((m, i): [string, Module] => [String(i), m]);
  }

  /** The number of modules. */
  get length(): number {
    return this.#items.length;
  }

  /**
   * The module at `index` (negative counts from the end), as `seq[i]`.
   * @example (encoder.at(0) as Linear).weight.shape // [64, 784]
   */
  at(index: number): TensorModule {
    return this.#items[checkIndex('Sequential.at', index, this.#items.length)]!;
  }

  /** Adds `module` at the end; returns this. */
  append(module: TensorModule): this {
    this.#items.push(module);
    return this;
  }

  /** The modules in order: `for (const m of seq)`. */
  [Symbol.iterator](): IterableIterator<TensorModule> {
    return this.#items[Symbol.iterator]();
  }

  /** Runs each module on the previous one's output. */
  forward(input: Tensor): Tensor {
    let x = input;
    for (const m of this.#items) x = m.forward(x);
    return x;
  }
}

/**
 * A list of modules whose parameters the parent sees, keyed 0, 1, 2, ..., as torch.nn.ModuleList.
 * It has no `forward`; the parent iterates it.
 * @example
 * const blocks = new ModuleList([new Linear(4, 4), new Linear(4, 4)]);
 * for (const b of blocks) x = (b as Linear).forward(x);
 */
export class ModuleList<M extends Module = Module> extends Module {
  #items: M[];

  constructor(modules: Iterable<M> = []) {
    super();
    this.#items = [...modules];
  }

  protected override extraChildren(): Iterable<[string, Module]> {
    return this.#items.map((m, i): [string, Module] => [String(i), m]);
  }

  /** The number of modules. */
  get length(): number {
    return this.#items.length;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): M {
    return this.#items[checkIndex('ModuleList.at', index, this.#items.length)]!;
  }

  /** Adds `module` at the end; returns this. */
  append(module: M): this {
    this.#items.push(module);
    return this;
  }

  /** Adds `modules` at the end; returns this. */
  extend(modules: Iterable<M>): this {
    for (const m of modules) this.#items.push(m);
    return this;
  }

  /** Inserts `module` before `index`. */
  insert(index: number, module: M): void {
    const n = this.#items.length;
    const j = index < 0 ? Math.max(0, index + n) : Math.min(index, n);
    this.#items.splice(j, 0, module);
  }

  /** The modules in order: `for (const m of list)`. */
  [Symbol.iterator](): IterableIterator<M> {
    return this.#items[Symbol.iterator]();
  }

  /** As torch's ModuleList repr: runs of identical modules print once as `(0-2): 3 x Linear(...)`. */
  override toString(): string {
    const reprs = this.#items.map((m) => m.toString());
    const lines: string[] = [];
    let start = 0;
    while (start < reprs.length) {
      let end = start;
      while (end + 1 < reprs.length && reprs[end + 1] === reprs[start]) end++;
      const body = addIndent(reprs[start]!, 2);
      lines.push(end === start ? `(${start}): ${body}` : `(${start}-${end}): ${end - start + 1} x ${body}`);
      start = end + 1;
    }
    return formatRepr(this.getName(), [], lines);
  }
}

/**
 * Modules by name, in insertion order, as torch.nn.ModuleDict. Keys are used as given.
 * @example
 * const heads = new ModuleDict({ cls: new Linear(64, 10), box: new Linear(64, 4) });
 * heads.get('cls')
 */
export class ModuleDict<M extends Module = Module> extends Module {
  #items = new Map<string, M>();

  constructor(modules: Iterable<readonly [string, M]> | Readonly<Record<string, M>> = {}) {
    super();
    const entries =
      Symbol.iterator in modules
        ? (modules as Iterable<readonly [string, M]>)
        : Object.entries(modules as Readonly<Record<string, M>>);
    for (const [k, m] of entries) this.set(k, m);
  }

  protected override extraChildren(): Iterable<[string, Module]> {
    return [...this.#items];
  }

  /** The number of modules. */
  get size(): number {
    return this.#items.size;
  }

  /** The module under `key`; throws a ValueError if there is none. */
  get(key: string): M {
    const m = this.#items.get(key);
    if (m === undefined)
      throw new ValueError(
        `ModuleDict.get: no such key; expected one of [${[...this.#items.keys()].join(', ')}], got '${key}'`,
      );
    return m;
  }

  /** True when `key` is present. */
  has(key: string): boolean {
    return this.#items.has(key);
  }

  /** Adds or replaces the module under `key`; returns this. */
  set(key: string, module: M): this {
    if (key === '' || key.includes('.')) {
      throw new ValueError(
        `ModuleDict.set: invalid key; expected a non-empty key without '.', got ${JSON.stringify(key)}`,
      );
    }
    this.#items.set(key, module);
    return this;
  }

  /** Removes and returns the module under `key`. */
  pop(key: string): M {
    const m = this.get(key);
    this.#items.delete(key);
    return m;
  }

  /** The keys in insertion order. */
  keys(): IterableIterator<string> {
    return this.#items.keys();
  }
  /** The modules in insertion order. */
  values(): IterableIterator<M> {
    return this.#items.values();
  }
  /** `[key, module]` pairs in insertion order. */
  entries(): IterableIterator<[string, M]> {
    return this.#items.entries();
  }
  /** `[key, module]` pairs, as a Map iterates (torch iterates keys). */
  [Symbol.iterator](): IterableIterator<[string, M]> {
    return this.#items.entries();
  }
}
