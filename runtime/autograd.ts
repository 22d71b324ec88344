/**
 * @module autograd — the graph record and the reverse sweep.
 *
 * Each op creates its output and, when gradients are on, a `GradNode` holding
 * its parents and a backward closure, side by side. `backward()` sorts the
 * graph iteratively (deep graphs would overflow a recursive sort) and sweeps
 * it in reverse, summing gradients that meet at a tensor.
 */
import { AutogradError, DisposedError } from './errors.ts';

/** The part of a tensor that autograd needs. */
export interface GradTensor {
  gradFn: GradNode | null;
  requiresGrad: boolean;
  grad: GradTensor | null;
  readonly isDisposed: boolean;
  readonly shape: readonly number[];
}

/**
 * One recorded op: parents in argument order, and the rule that maps the
 * output's gradient to one gradient per parent (null where none flows).
 */
export interface GradNode {
  readonly name: string;
  parents: readonly GradTensor[];
  backward: ((grad: never) => readonly (GradTensor | null)[]) | null;
}

let gradEnabled = true;

/** Whether ops currently record a graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` with graph recording off, as `torch.no_grad()`.
 * @example noGrad(() => w.sub_(w.grad!.mul(lr)))
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with graph recording on, as `torch.enable_grad()`. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

function withGradMode<T>(mode: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = mode;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    gradEnabled = prev;
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      gradEnabled = prev;
    }) as T;
  }
  gradEnabled = prev;
  return result;
}

/** Whether an op on these inputs should record a node. */
export function needsGrad(inputs: readonly GradTensor[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

/** Tensors reachable from `root` through grad nodes, parents before children. */
function topoSort(root: GradTensor): GradTensor[] {
  const order: GradTensor[] = [];
  const visited = new Set<GradTensor>();
  const stack: { t: GradTensor; next: number }[] = [{ t: root, next: 0 }];
  visited.add(root);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const parents = frame.t.gradFn?.parents ?? [];
    if (frame.next < parents.length) {
      const p = parents[frame.next++]!;
      if (!visited.has(p) && p.requiresGrad) {
        visited.add(p);
        stack.push({ t: p, next: 0 });
      }
    } else {
      order.push(frame.t);
      stack.pop();
    }
  }
  return order;
}

/** The operations the sweep needs from the tensor layer. */
export interface GradOps<T extends GradTensor> {
  add(a: T, b: T): T;
  /**
   * Adds `grad` into a leaf's `.grad`. Returns true when it stored `grad`
   * itself (which the sweep must then not dispose), false when it copied or
   * added it into an existing buffer. `exclusive` is false when the sweep still
   * holds `grad` for another tensor (a rule may pass one gradient to two parents,
   * as add does): then it must be copied, or two leaves would share one `.grad`.
   */
  accumulate(leaf: T, grad: T, exclusive: boolean): boolean;
  dispose(t: T): void;
  /** Runs one node's rule so that temporaries it makes are freed (a tidy scope). */
  scoped<R>(fn: () => R): R;
}

/**
 * The reverse sweep from `root` seeded with `seed` (which the sweep owns).
 * Gradients are reference-counted while in flight: a rule may return the
 * incoming gradient itself, or one tensor for two parents. Without
 * `retainGraph` the nodes drop their closures, so a second backward through
 * them throws.
 */
export function runBackward<T extends GradTensor>(root: T, seed: T, retainGraph: boolean, ops: GradOps<T>): void {
  const order = topoSort(root);
  const grads = new Map<GradTensor, T>();
  const refs = new Map<T, number>();
  const stored = new Set<T>();
  const hold = (x: T): void => {
    refs.set(x, (refs.get(x) ?? 0) + 1);
  };
  const release = (x: T): void => {
    const n = (refs.get(x) ?? 0) - 1;
    if (n > 0) {
      refs.set(x, n);
      return;
    }
    refs.delete(x);
    if (!stored.has(x)) ops.dispose(x);
  };
  grads.set(root, seed);
  hold(seed);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i] as T;
    const g = grads.get(t);
    if (g === undefined) continue;
    grads.delete(t);
    const node = t.gradFn;
    if (node === null) {
      if (ops.accumulate(t, g, refs.get(g) === 1 && !stored.has(g))) stored.add(g);
      release(g);
      continue;
    }
    const rule = node.backward as ((grad: T) => readonly (T | null)[]) | null;
    if (rule === null) {
      throw new AutogradError(
        `backward: the graph through '${node.name}' was already freed; expected retainGraph: true on the first backward, got a second backward`,
      );
    }
    const parents = node.parents;
    for (const p of parents) {
      if (p.isDisposed && p.requiresGrad && p.gradFn === null) {
        throw new DisposedError(
          `backward: a leaf tensor was disposed; expected it alive until backward, got a disposed tensor of shape [${p.shape.join(',')}]`,
        );
      }
    }
    const parentGrads = ops.scoped(() => rule(g));
    for (let j = 0; j < parents.length; j++) {
      const pg = parentGrads[j] ?? null;
      if (pg === null) continue;
      hold(pg);
      const p = parents[j]!;
      if (!p.requiresGrad) {
        release(pg);
        continue;
      }
      const prev = grads.get(p) as T | undefined;
      if (prev === undefined) {
        grads.set(p, pg);
      } else {
        const sum = ops.add(prev, pg);
        hold(sum);
        grads.set(p, sum);
        release(prev);
        release(pg);
      }
    }
    release(g);
    if (!retainGraph) {
      node.backward = null;
      node.parents = [];
    }
  }
}
