/**
 * @module memory — scopes that free what a step made, and buffer accounting.
 *
 * `tidy(fn)` disposes every tensor created inside `fn` except those it returns
 * and those marked with `keep()`. The Trainer runs each step in a scope; users
 * may too. Tensors outside any scope live until `dispose()` or until the
 * garbage collector reclaims them (a FinalizationRegistry returns the buffer).
 */
import type { Backend, MemoryInfo } from './backend.ts';
import { getDefaultBackend } from './default-backend.ts';

/** What a scope tracks: anything that can be disposed. */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
  /**
   * Called when no scope owns it any more (it was created outside every scope, passed to
   * `keep`, or returned from the outermost scope): from then on only `dispose()` or the
   * garbage collector frees it. Tensors register with their FinalizationRegistry here, so
   * the many tensors a step makes and its scope frees never touch the registry.
   */
  untracked?(): void;
}

const scopes: Set<Disposable>[] = [];

/** Registers a new tensor with the innermost scope; false when no scope is open. */
export function track(t: Disposable): boolean {
  const top = scopes[scopes.length - 1];
  if (top === undefined) return false;
  top.add(t);
  return true;
}

/**
 * Removes `t` from every open scope, so `tidy` will not dispose it.
 * @example tidy(() => { cache = keep(x.mul(2)); })
 */
export function keep<T extends Disposable>(t: T): T {
  for (const s of scopes) s.delete(t);
  t.untracked?.();
  return t;
}

/** Calls `visit` on every Disposable inside a value: itself, arrays, plain objects, Maps. */
function collect(value: unknown, visit: (d: Disposable) => void, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isDisposable(value)) {
    visit(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, visit, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, visit, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, visit, seen);
  }
}

function isDisposable(v: object): v is Disposable {
  return typeof (v as Partial<Disposable>).dispose === 'function' && 'isDisposed' in v;
}

function closeScope(scope: Set<Disposable>, result: unknown): void {
  const kept = new Set<Disposable>();
  collect(result, (d) => kept.add(d));
  for (const t of scope) {
    if (!kept.has(t)) t.dispose();
  }
  // What the scope returns belongs to the enclosing scope from now on.
  const parent = scopes[scopes.length - 1];
  for (const t of kept) {
    if (!scope.has(t)) continue;
    if (parent !== undefined) parent.add(t);
    else t.untracked?.();
  }
}

/**
 * Runs `fn` and disposes every tensor it created, except what it returns
 * (tensors, or arrays/objects of them) and what it passed to `keep`. An async
 * `fn` is awaited before the scope closes.
 * @example const y = tidy(() => x.mul(2).add(1)); // the intermediate x*2 is freed
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    closeScope(scope, undefined);
    throw e;
  }
  if (result instanceof Promise) {
    // Tensors made by other code while this promise is pending also land here;
    // async scopes are for one task at a time (the Trainer's step).
    return result.then(
      (value: unknown) => {
        removeScope(scope);
        closeScope(scope, value);
        return value;
      },
      (e: unknown) => {
        removeScope(scope);
        closeScope(scope, undefined);
        throw e;
      },
    ) as T;
  }
  scopes.pop();
  closeScope(scope, result);
  return result;
}

function removeScope(scope: Set<Disposable>): void {
  const i = scopes.lastIndexOf(scope);
  if (i >= 0) scopes.splice(i, 1);
}

/** How many scopes are open (for tests). */
export function scopeDepth(): number {
  return scopes.length;
}

/**
 * Buffers alive on a backend (the default one if omitted), and its reserved bytes.
 * @example const before = liveBuffers().liveBuffers; tidy(() => x.mul(2)); liveBuffers().liveBuffers === before
 */
export function liveBuffers(backend: Backend = getDefaultBackend()): MemoryInfo {
  return backend.memory();
}
