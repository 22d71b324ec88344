/**
 * @module inference/no-autograd — what `lightning-ts/inference` has in place of runtime/autograd.ts.
 *
 * scripts/bundle-inference.mjs aliases `runtime/autograd.ts` to this file, so the inference
 * bundle records no graph and carries no reverse sweep. It exports the same names with the same
 * types: ops ask {@link needsGrad} (always false) and record nothing; {@link noGrad} and
 * {@link enableGrad} just run `fn`; {@link runBackward} throws a {@link TrainingNotAvailableError}.
 *
 * @example
 * // in the inference bundle
 * import { isGradEnabled } from 'lightning-ts/inference';
 * isGradEnabled() // false
 */
import { AutogradError } from '../errors.ts';

/** The part of a tensor that autograd needs (as runtime/autograd.ts). */
export interface GradTensor {
  gradFn: GradNode | null;
  requiresGrad: boolean;
  grad: GradTensor | null;
  readonly isDisposed: boolean;
  readonly shape: readonly number[];
}

/** One recorded op (as runtime/autograd.ts); the inference entry never makes one. */
export interface GradNode {
  readonly name: string;
  parents: readonly GradTensor[];
  backward: ((grad: never) => readonly (GradTensor | null)[]) | null;
}

/** The operations the sweep needs from the tensor layer (as runtime/autograd.ts). */
export interface GradOps<T extends GradTensor> {
  add(a: T, b: T): T;
  accumulate(leaf: T, grad: T, exclusive: boolean): boolean;
  dispose(t: T): void;
  scoped<R>(fn: () => R): R;
}

/**
 * `backward()` (or anything else that trains) was called in the inference entry.
 * @example
 * try { loss.backward(); } catch (e) { e instanceof TrainingNotAvailableError } // true
 */
export class TrainingNotAvailableError extends AutogradError {}

/** Always false: the inference entry records no graph. */
export function isGradEnabled(): boolean {
  return false;
}

/**
 * Runs `fn`; recording is always off in this entry, so it is the identity wrapper.
 * @example const y = noGrad(() => model.forward(x));
 */
export function noGrad<T>(fn: () => T): T {
  return fn();
}

/** Runs `fn`; the inference entry cannot turn recording on. */
export function enableGrad<T>(fn: () => T): T {
  return fn();
}

/** Always false: no op records a node. */
export function needsGrad(_inputs: readonly GradTensor[]): boolean {
  return false;
}

/** Throws: training is not in this entry. */
export function runBackward<T extends GradTensor>(_root: T, _seed: T, _retainGraph: boolean, _ops: GradOps<T>): never {
  throw new TrainingNotAvailableError(
    "backward: training is not in the inference entry; expected import from 'lightning-ts' for backward(), optimizers and the Trainer, got a backward() call in 'lightning-ts/inference'",
  );
}
