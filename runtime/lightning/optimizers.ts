/**
 * @module lightning/optimizers — `configureOptimizers`' return forms, normalised, and gradient clipping.
 *
 * Lightning accepts: an optimizer; a list of optimizers; `[optimizers, schedulers]`;
 * `{ optimizer, lrScheduler }` (the scheduler alone or `{ scheduler, interval, frequency, monitor }`);
 * or a list of such dicts. All become optimizers plus scheduler configs.
 */
import { noGrad } from '../autograd.ts';
import { clamp, stack, type Tensor } from '../tensor/index.ts';
import { tidy } from '../memory.ts';
import { Optimizer } from '../optim/optimizer.ts';
import { MisconfigurationError } from './errors.ts';

/** What Lightning calls an LR scheduler: anything with `step()` and a state dict (ReduceLROnPlateau's step takes the metric). */
export interface SchedulerLike {
  readonly optimizer: Optimizer;
  step(metric?: number): void;
  stateDict(): Record<string, unknown>;
  loadStateDict(state: Readonly<Record<string, unknown>>): void;
}

/** A scheduler with how the Trainer steps it, as Lightning's `lr_scheduler` dict. */
export interface LRSchedulerConfigInput {
  readonly scheduler: SchedulerLike;
  /** 'epoch' (default) or 'step'. */
  readonly interval?: 'epoch' | 'step';
  /** Step every n intervals (default 1). */
  readonly frequency?: number;
  /** The metric a ReduceLROnPlateau steps on (default 'val_loss' when it needs one). */
  readonly monitor?: string;
  /** Missing monitor is an error (default true). */
  readonly strict?: boolean;
  /** The name LearningRateMonitor logs under (default `lr-<Optimizer>`). */
  readonly name?: string;
}

/** One optimizer with its scheduler, as Lightning's dict form. */
export interface OptimizerDict {
  readonly optimizer: Optimizer;
  readonly lrScheduler?: SchedulerLike | LRSchedulerConfigInput;
  readonly monitor?: string;
}

/** Every form `configureOptimizers` may return. */
export type OptimizersConfig =
  | Optimizer
  | readonly Optimizer[]
  | readonly [readonly Optimizer[], readonly (SchedulerLike | LRSchedulerConfigInput)[]]
  | OptimizerDict
  | readonly OptimizerDict[];

/** A scheduler config with every field filled in. */
export interface LRSchedulerConfig {
  readonly scheduler: SchedulerLike;
  readonly interval: 'epoch' | 'step';
  readonly frequency: number;
  readonly monitor: string | null;
  readonly strict: boolean;
  readonly name: string | null;
  /** ReduceLROnPlateau-like: its step takes the monitored value. */
  readonly reduceOnPlateau: boolean;
}

function isSchedulerConfig(x: unknown): x is LRSchedulerConfigInput {
  return typeof x === 'object' && x !== null && 'scheduler' in x;
}

function isPlateau(s: SchedulerLike): boolean {
  return s.constructor.name === 'ReduceLROnPlateau';
}

function toConfig(x: SchedulerLike | LRSchedulerConfigInput, monitor: string | undefined): LRSchedulerConfig {
  const c: LRSchedulerConfigInput = isSchedulerConfig(x) ? x : { scheduler: x };
  if (typeof c.scheduler?.step !== 'function') {
    throw new MisconfigurationError(
      `configureOptimizers: invalid lrScheduler; expected a scheduler with step() or { scheduler, interval, frequency, monitor }, got ${typeof c.scheduler}`,
    );
  }
  const interval = c.interval ?? 'epoch';
  if (interval !== 'epoch' && interval !== 'step') {
    throw new MisconfigurationError(
      `configureOptimizers: invalid lrScheduler interval; expected 'epoch' or 'step', got '${String(interval)}'`,
    );
  }
  const frequency = c.frequency ?? 1;
  if (!Number.isInteger(frequency) || frequency < 1) {
    throw new MisconfigurationError(
      `configureOptimizers: invalid lrScheduler frequency; expected an integer >= 1, got ${String(frequency)}`,
    );
  }
  const plateau = isPlateau(c.scheduler);
  const mon = c.monitor ?? monitor ?? null;
  if (plateau && mon === null) {
    throw new MisconfigurationError(
      "configureOptimizers: ReduceLROnPlateau needs a metric to monitor; expected { optimizer, lrScheduler: { scheduler, monitor: 'val_loss' } }, got no monitor",
    );
  }
  return {
    scheduler: c.scheduler,
    interval,
    frequency,
    monitor: mon,
    strict: c.strict ?? true,
    name: c.name ?? null,
    reduceOnPlateau: plateau,
  };
}

/**
 * Normalises `configureOptimizers`' result.
 * @example normalizeOptimizers(new Adam(ps)).optimizers.length // 1
 */
export function normalizeOptimizers(out: unknown): { optimizers: Optimizer[]; schedulers: LRSchedulerConfig[] } {
  const bad = (): never => {
    throw new MisconfigurationError(
      `configureOptimizers: unknown return form; expected an optimizer, a list of optimizers, [optimizers, schedulers], or { optimizer, lrScheduler }, got ${out === null ? 'null' : Array.isArray(out) ? 'an array of other things' : typeof out}`,
    );
  };
  if (out instanceof Optimizer) return { optimizers: [out], schedulers: [] };
  const isDict = (x: unknown): x is OptimizerDict =>
    typeof x === 'object' &&
    x !== null &&
    !Array.isArray(x) &&
    (x as { optimizer?: unknown }).optimizer instanceof Optimizer;
  if (isDict(out)) {
    return {
      optimizers: [out.optimizer],
      schedulers: out.lrScheduler === undefined ? [] : [toConfig(out.lrScheduler, out.monitor)],
    };
  }
  if (!Array.isArray(out) || out.length === 0) return bad();
  const list = out as unknown[];
  if (list.every((x) => x instanceof Optimizer)) return { optimizers: list as Optimizer[], schedulers: [] };
  if (list.every(isDict)) {
    const dicts = list as OptimizerDict[];
    return {
      optimizers: dicts.map((d) => d.optimizer),
      schedulers: dicts.flatMap((d) => (d.lrScheduler === undefined ? [] : [toConfig(d.lrScheduler, d.monitor)])),
    };
  }
  if (
    list.length === 2 &&
    Array.isArray(list[0]) &&
    Array.isArray(list[1]) &&
    (list[0] as unknown[]).every((x) => x instanceof Optimizer)
  ) {
    return {
      optimizers: list[0] as Optimizer[],
      schedulers: (list[1] as (SchedulerLike | LRSchedulerConfigInput)[]).map((s) => toConfig(s, undefined)),
    };
  }
  return bad();
}

/**
 * Scales gradients so their total 2-norm is at most `maxNorm`, as torch's `clip_grad_norm_`
 * (coefficient `maxNorm / (norm + 1e-6)`, clamped to 1), on the device with no readback.
 * @example clipGradNorm_(model.parameters(), 1.0)
 */
export function clipGradNorm_(params: Iterable<Tensor>, maxNorm: number): void {
  const grads = [...params].map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) return;
  noGrad(() =>
    tidy(() => {
      const norms = grads.map((g) => g.square().sum().sqrt());
      const total = stack(norms).square().sum().sqrt();
      const coef = clamp(total.add(1e-6).reciprocal().mul(maxNorm), null, 1);
      for (const g of grads) g.mul_(coef);
    }),
  );
}

/**
 * Clamps every gradient element to [-clipValue, clipValue], as torch's `clip_grad_value_`.
 * @example clipGradValue_(model.parameters(), 0.5)
 */
export function clipGradValue_(params: Iterable<Tensor>, clipValue: number): void {
  noGrad(() =>
    tidy(() => {
      for (const p of params) {
        const g = p.grad;
        if (g !== null) g.copy_(clamp(g, -clipValue, clipValue));
      }
    }),
  );
}
