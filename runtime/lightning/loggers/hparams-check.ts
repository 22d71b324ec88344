/**
 * @module lightning/loggers/hparams-check — bounds on a hyperparameter graph before anything
 * walks it recursively.
 *
 * Flattening (`a/b` keys), `hparams.yaml` and Python's `str()` expand every path through the
 * graph, so an object reached twice is written twice: a chain of 40 objects each holding the
 * next twice has 2^40 paths, and a cycle has infinitely many. Hyperparameters can come from a
 * checkpoint (`loadFromCheckpoint`), whose pickle memo makes shared and cyclic graphs in a few
 * bytes, so the walk is iterative and stops at a cycle or at a bound, with a typed error.
 */
import { MisconfigurationError } from '../errors.ts';

/** The most values (objects, arrays, leaves, array items) a graph may expand to, counted once per path. */
export const MAX_HPARAM_VALUES = 100_000;
/** The deepest nesting the recursive writers are asked to follow. */
export const MAX_HPARAM_DEPTH = 100;

/**
 * Throws a MisconfigurationError when `params`, expanded as a tree, has a cycle, more than
 * {@link MAX_HPARAM_VALUES} values or more than {@link MAX_HPARAM_DEPTH} levels; returns otherwise.
 * @example checkHyperparameters({ lr: 1e-3, layers: [64, 3] }, 'CSVLogger') // ok
 */
export function checkHyperparameters(params: unknown, component = 'hyperparameters'): void {
  // Frames: a value to visit, or the exit of an object (taking it off the current path).
  const stack: ({ value: unknown; path: string; depth: number } | { exit: object })[] = [
    { value: params, path: '', depth: 0 },
  ];
  const onPath = new Set<object>();
  let count = 0;
  const where = (path: string): string => (path === '' ? 'the top' : `'${path}'`);
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if ('exit' in frame) {
      onPath.delete(frame.exit);
      continue;
    }
    const { value, path, depth } = frame;
    // An array's items are counted before they are listed, so a huge (or sparse) one stops here.
    count += Array.isArray(value) || ArrayBuffer.isView(value) ? 1 + (value as ArrayLike<unknown>).length : 1;
    if (count > MAX_HPARAM_VALUES)
      throw new MisconfigurationError(
        `${component}: the hyperparameters expand to too many values; expected at most ${MAX_HPARAM_VALUES} values (an object reached by several paths counts once per path), got more by ${where(path)}`,
      );
    if (Array.isArray(value)) count -= value.length; // each item counts itself when visited
    if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) continue;
    if (onPath.has(value))
      throw new MisconfigurationError(
        `${component}: the hyperparameters contain a cycle; expected a tree of plain values, got ${where(path)} referring back to an object that contains it`,
      );
    if (depth >= MAX_HPARAM_DEPTH)
      throw new MisconfigurationError(
        `${component}: the hyperparameters nest too deeply; expected at most ${MAX_HPARAM_DEPTH} levels, got more at ${where(path)}`,
      );
    onPath.add(value);
    stack.push({ exit: value });
    const entries: [string, unknown][] = Array.isArray(value)
      ? value.map((v, i) => [String(i), v])
      : Object.keys(value).map((k) => [k, (value as Record<string, unknown>)[k]]);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, v] = entries[i]!;
      stack.push({ value: v, path: path === '' ? k : `${path}/${k}`, depth: depth + 1 });
    }
  }
}
