/**
 * @module amp/grad-scaler — `GradScaler`: loss scaling with overflow skip for float16
 * training, as torch.cuda.amp.GradScaler.
 *
 * The loss is multiplied by `scale` before backward so small float16 gradients do not
 * flush to zero; `unscale_` divides the gradients back and checks them for inf/NaN with
 * one reduction; `step` skips the optimizer step when one was found (one readback of a
 * single number per step); `update` halves the scale after an overflow and doubles it
 * after `growthInterval` clean steps (torch's `_amp_update_scale_`). bfloat16 has float32's
 * range and needs no scaler, as in torch.
 */
import { noGrad } from '../autograd.ts';
import { ValueError } from '../errors.ts';
import { LightningError } from '../errors.ts';
import { PyFloat } from '../io/pickle.ts';
import type { Optimizer } from '../optim/optimizer.ts';
import type { Tensor } from '../tensor/index.ts';

/** Options of `new GradScaler(options)`, torch's defaults. */
export interface GradScalerOptions {
  /** The first scale (default 2^16). */
  readonly initScale?: number;
  /** Multiplies the scale after `growthInterval` steps without inf/NaN (default 2). */
  readonly growthFactor?: number;
  /** Multiplies the scale after a step with inf/NaN gradients (default 0.5). */
  readonly backoffFactor?: number;
  /** Clean steps between growths (default 2000). */
  readonly growthInterval?: number;
  /** false makes every method a pass-through (default true), as torch's `enabled=False`. */
  readonly enabled?: boolean;
}

/**
 * A GradScaler's state dict, with torch's keys (floats are PyFloat on the way out, so
 * torch reads `scale` as a float; numbers or PyFloat on the way in).
 */
export interface GradScalerStateDict {
  readonly scale: number | PyFloat;
  readonly growth_factor: number | PyFloat;
  readonly backoff_factor: number | PyFloat;
  readonly growth_interval: number;
  readonly _growth_tracker: number;
}

/**
 * Misuse of a GradScaler in the order of its calls (torch raises RuntimeError there).
 * @example scaler.unscale_(opt); scaler.unscale_(opt) // throws GradScalerError: already been called
 */
export class GradScalerError extends LightningError {}

type Stage = 'ready' | 'unscaled' | 'stepped';

interface PerOptimizer {
  stage: Stage;
  /** A 0-d tensor: 0 when every gradient was finite, NaN otherwise (not read yet). */
  foundInf: Tensor | null;
  /** Read at `step`: whether this optimizer's gradients had inf/NaN. */
  skipped: boolean | null;
}

function num(v: unknown, key: string): number {
  const n = v instanceof PyFloat ? v.value : v;
  if (typeof n !== 'number' || Number.isNaN(n)) {
    throw new ValueError(`GradScaler.loadStateDict: '${key}' is not a number; expected a number, got ${String(v)}`);
  }
  return n;
}

/**
 * Loss scaling for float16 mixed precision, as torch.cuda.amp.GradScaler.
 * @example
 * const scaler = new GradScaler();
 * const loss = autocast({ dtype: 'float16' }, () => F.mseLoss(model.forward(x), x));
 * scaler.scale(loss).backward();
 * await scaler.step(optimizer);   // skipped when a gradient is inf/NaN
 * scaler.update();
 * optimizer.zeroGrad();
 */
export class GradScaler {
  #scale: number;
  #growthFactor: number;
  #backoffFactor: number;
  #growthInterval: number;
  #growthTracker = 0;
  readonly #enabled: boolean;
  #perOptimizer = new Map<Optimizer, PerOptimizer>();

  constructor(options: GradScalerOptions = {}) {
    this.#scale = options.initScale ?? 2 ** 16;
    this.#growthFactor = options.growthFactor ?? 2;
    this.#backoffFactor = options.backoffFactor ?? 0.5;
    this.#growthInterval = options.growthInterval ?? 2000;
    this.#enabled = options.enabled ?? true;
    if (!(this.#scale > 0) || !Number.isFinite(this.#scale))
      throw new ValueError(`GradScaler: initScale must be a finite number > 0; expected > 0, got ${this.#scale}`);
    if (!(this.#growthFactor > 1))
      throw new ValueError(`GradScaler: growthFactor must be > 1; expected > 1, got ${this.#growthFactor}`);
    if (!(this.#backoffFactor < 1 && this.#backoffFactor > 0))
      throw new ValueError(
        `GradScaler: backoffFactor must be in (0, 1); expected 0 < backoffFactor < 1, got ${this.#backoffFactor}`,
      );
    if (!Number.isInteger(this.#growthInterval) || this.#growthInterval < 1)
      throw new ValueError(
        `GradScaler: growthInterval must be an integer >= 1; expected >= 1, got ${this.#growthInterval}`,
      );
  }

  /** Whether scaling is on. */
  isEnabled(): boolean {
    return this.#enabled;
  }

  /** The current scale (1 when disabled, as torch). */
  getScale(): number {
    return this.#enabled ? this.#scale : 1;
  }
  getGrowthFactor(): number {
    return this.#growthFactor;
  }
  getBackoffFactor(): number {
    return this.#backoffFactor;
  }
  getGrowthInterval(): number {
    return this.#growthInterval;
  }
  /** Clean steps since the last growth or backoff. */
  getGrowthTracker(): number {
    return this.#growthTracker;
  }

  /**
   * `loss · scale` (the same tensor when disabled), in float32 as torch multiplies by a float32 scale.
   * @example scaler.scale(loss).backward()
   */
  scale(loss: Tensor): Tensor {
    if (!this.#enabled) return loss;
    return loss.mul(Math.fround(this.#scale));
  }

  #entry(optimizer: Optimizer): PerOptimizer {
    let e = this.#perOptimizer.get(optimizer);
    if (e === undefined) {
      e = { stage: 'ready', foundInf: null, skipped: null };
      this.#perOptimizer.set(optimizer, e);
    }
    return e;
  }

  /**
   * Divides `optimizer`'s gradients by the scale in place and records (without reading
   * back) whether any is inf/NaN. Call it before clipping gradients; `step` calls it if
   * you did not. Twice before `update` throws, as in torch.
   * @example scaler.unscale_(opt); clipGradNorm_(params, 1); await scaler.step(opt)
   */
  unscale_(optimizer: Optimizer): void {
    if (!this.#enabled) return;
    const e = this.#entry(optimizer);
    if (e.stage === 'unscaled')
      throw new GradScalerError(
        'GradScaler.unscale_: unscale_() has already been called on this optimizer since the last update(); expected one call per step, got a second',
      );
    if (e.stage === 'stepped')
      throw new GradScalerError(
        'GradScaler.unscale_: unscale_() is being called after step(); expected it before step(), got it after',
      );
    // torch: inv_scale = scale.double().reciprocal().float().
    const inv = Math.fround(1 / this.#scale);
    noGrad(() => {
      let found: Tensor | null = null;
      for (const g of optimizer.paramGroups) {
        for (const p of g.params) {
          const grad = p.grad;
          if (grad === null || grad.isDisposed) continue;
          grad.mul_(inv);
          // 0·g is NaN exactly where g is inf or NaN, so one sum tells whether any was.
          const probe = grad.mul(0);
          const s = probe.sum();
          probe.dispose();
          if (found === null) found = s;
          else {
            const next: Tensor = found.add(s);
            found.dispose();
            s.dispose();
            found = next;
          }
        }
      }
      e.foundInf?.dispose();
      e.foundInf = found;
    });
    e.stage = 'unscaled';
  }

  /**
   * Unscales (if not done yet) and runs `optimizer.step()` unless a gradient was inf/NaN;
   * returns whether it stepped. Reads back one number.
   * @example if (!(await scaler.step(opt))) console.log('skipped')
   */
  async step(optimizer: Optimizer): Promise<boolean> {
    if (!this.#enabled) {
      optimizer.step();
      return true;
    }
    const e = this.#entry(optimizer);
    if (e.stage === 'stepped')
      throw new GradScalerError(
        'GradScaler.step: step() has already been called since the last update(); expected one step per optimizer per update, got a second',
      );
    if (e.stage === 'ready') this.unscale_(optimizer);
    const found = e.foundInf;
    e.foundInf = null;
    if (found === null)
      throw new GradScalerError(
        'GradScaler.step: no inf checks were recorded for this optimizer; expected parameters with gradients (call backward on the scaled loss first), got none',
      );
    const v = await found.item();
    found.dispose();
    const bad = !Number.isFinite(v) || v !== 0;
    e.skipped = bad;
    e.stage = 'stepped';
    if (!bad) optimizer.step();
    return !bad;
  }

  /**
   * Adjusts the scale after the step(s): × backoffFactor if any optimizer skipped (the
   * growth tracker resets), else counts a clean step and × growthFactor every
   * growthInterval of them (keeping the old scale if the new one would not be finite).
   * `newScale` sets it directly, as torch's `update(new_scale)`.
   * @example await scaler.step(opt); scaler.update()
   */
  update(newScale?: number): void {
    if (!this.#enabled) return;
    if (newScale !== undefined) {
      if (!(newScale > 0) || !Number.isFinite(newScale))
        throw new ValueError(`GradScaler.update: newScale must be a finite number > 0; expected > 0, got ${newScale}`);
      this.#scale = newScale;
    } else {
      const stepped = [...this.#perOptimizer.values()].filter((e) => e.skipped !== null);
      if (stepped.length === 0)
        throw new GradScalerError(
          'GradScaler.update: no inf checks were recorded prior to update; expected step() before update(), got none',
        );
      const foundInf = stepped.some((e) => e.skipped === true);
      if (foundInf) {
        this.#scale *= this.#backoffFactor;
        this.#growthTracker = 0;
      } else {
        const successful = this.#growthTracker + 1;
        if (successful === this.#growthInterval) {
          const grown = Math.fround(this.#scale * this.#growthFactor);
          if (Number.isFinite(grown)) this.#scale = grown;
          this.#growthTracker = 0;
        } else {
          this.#growthTracker = successful;
        }
      }
      // torch keeps the scale as a float32 tensor.
      this.#scale = Math.fround(this.#scale);
    }
    for (const e of this.#perOptimizer.values()) e.foundInf?.dispose();
    this.#perOptimizer = new Map();
  }

  /**
   * torch's `state_dict()`: `{ scale, growth_factor, backoff_factor, growth_interval, _growth_tracker }`
   * when enabled, `{}` when not.
   * @example scaler.stateDict().scale // PyFloat(65536)
   */
  stateDict(): Partial<GradScalerStateDict> {
    if (!this.#enabled) return {};
    return {
      scale: new PyFloat(this.#scale),
      growth_factor: new PyFloat(this.#growthFactor),
      backoff_factor: new PyFloat(this.#backoffFactor),
      growth_interval: this.#growthInterval,
      _growth_tracker: this.#growthTracker,
    };
  }

  /**
   * Restores `stateDict()`'s values; an empty dict on an enabled scaler throws, as torch.
   * @example scaler.loadStateDict(ckpt['MixedPrecision'])
   */
  loadStateDict(state: Readonly<Record<string, unknown>>): void {
    if (!this.#enabled) return;
    if (Object.keys(state).length === 0) {
      throw new GradScalerError(
        'GradScaler.loadStateDict: the source state dict is empty, possibly because it was saved from a disabled GradScaler; expected scale, growth_factor, backoff_factor, growth_interval and _growth_tracker, got {}',
      );
    }
    for (const k of ['scale', 'growth_factor', 'backoff_factor', 'growth_interval', '_growth_tracker']) {
      if (!(k in state))
        throw new ValueError(
          `GradScaler.loadStateDict: key '${k}' is missing; expected torch's GradScaler keys, got ${Object.keys(state).join(', ')}`,
        );
    }
    this.#scale = num(state['scale'], 'scale');
    this.#growthFactor = num(state['growth_factor'], 'growth_factor');
    this.#backoffFactor = num(state['backoff_factor'], 'backoff_factor');
    this.#growthInterval = num(state['growth_interval'], 'growth_interval');
    this.#growthTracker = num(state['_growth_tracker'], '_growth_tracker');
  }
}
