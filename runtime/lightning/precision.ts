/**
 * @module lightning/precision — the Trainer's `precision` option: what each setting does to
 * the forward, the backward, the optimizer step and the checkpoint.
 *
 * - `'32-true'`: float32 throughout (the default).
 * - `'16-mixed'` / `'bf16-mixed'`: float32 master weights; `trainingStep`, `validationStep`,
 *   `testStep` and `predictStep` run under `autocast` (matmul, linear and conv2d on 16-bit
 *   values, see amp/autocast.ts). `'16-mixed'` scales the loss with a GradScaler, unscales
 *   before gradient clipping, skips steps with inf/NaN gradients and stores the scaler in the
 *   checkpoint under `MixedPrecision` (Lightning 2's key, the plugin's class name); bfloat16
 *   needs no scaler, as in Lightning.
 * - `'16-true'` / `'bf16-true'`: the weights are 16-bit values (rounded after setup, after
 *   every optimizer step and after loading a checkpoint), compute runs under autocast, and
 *   the checkpoint's `state_dict` is written as torch.float16 / torch.bfloat16 tensors.
 *   The backends have no 16-bit dtype, so in memory a weight is a float32 tensor holding
 *   16-bit values; the optimizer state stays float32 (where Lightning's would be 16-bit).
 *
 * The precision plugin of Lightning's (MixedPrecision, HalfPrecision) is one small class here.
 */
import { GradScaler } from '../amp/grad-scaler.ts';
import { autocast, type AutocastDType } from '../amp/autocast.ts';
import { noGrad } from '../autograd.ts';
import { Tensor, runOp } from '../tensor/index.ts';
import { bfloat16, half, type Float16Tensor } from '../io/torch-ckpt.ts';
import type { Optimizer } from '../optim/optimizer.ts';
import { MisconfigurationError, NotAvailableYetError } from './errors.ts';

/** The precision settings the Trainer runs. */
export type PrecisionName = '32-true' | '16-mixed' | 'bf16-mixed' | '16-true' | 'bf16-true';

/**
 * Every accepted `precision` value (Lightning 2's, with its short aliases), for messages.
 * @example ACCEPTED_PRECISIONS.includes('bf16') // true
 */
export const ACCEPTED_PRECISIONS: readonly (string | number)[] = [
  '32-true',
  '32',
  32,
  '16-mixed',
  '16',
  16,
  'bf16-mixed',
  'bf16',
  '16-true',
  'bf16-true',
];

/**
 * The canonical name of a `precision` value, as Lightning 2's `_convert_precision_to_unified_args`
 * ('16' and 16 mean '16-mixed', 'bf16' means 'bf16-mixed', 32 means '32-true'). float64 and
 * transformer-engine throw a NotAvailableYetError; anything else a MisconfigurationError listing
 * the accepted values.
 * @example resolvePrecision('bf16') // 'bf16-mixed'
 */
export function resolvePrecision(value: unknown): PrecisionName {
  const v = value === undefined || value === null ? '32-true' : value;
  const s = typeof v === 'number' ? String(v) : v;
  switch (s) {
    case '32-true':
    case '32':
      return '32-true';
    case '16-mixed':
    case '16':
      return '16-mixed';
    case 'bf16-mixed':
    case 'bf16':
      return 'bf16-mixed';
    case '16-true':
      return '16-true';
    case 'bf16-true':
      return 'bf16-true';
    case '64-true':
    case '64':
    case 'transformer-engine':
    case 'transformer-engine-float16':
      throw new NotAvailableYetError(
        `Trainer: precision '${s}' is not available yet (${String(s).startsWith('64') ? 'the wasm and webgpu backends have no float64 kernels' : 'no FP8 kernels'}); expected one of ${list()}, got '${s}'`,
      );
    default:
      throw new MisconfigurationError(
        `Trainer: invalid precision; expected one of ${list()}, got ${typeof v === 'string' ? `'${v}'` : String(v)}`,
      );
  }
}

function list(): string {
  return ACCEPTED_PRECISIONS.map((p) => (typeof p === 'string' ? `'${p}'` : String(p))).join(', ');
}

/**
 * What one precision setting does at each point of a training step.
 * @example
 * const p = new Precision('16-mixed');
 * const loss = await p.forward(() => model.trainingStep(batch, i));
 * p.scaleLoss(loss).backward();
 * p.unscaleGradients(opt); clip(); await p.step(opt);
 */
export class Precision {
  readonly name: PrecisionName;
  /** The loss scaler of '16-mixed' (null otherwise). */
  readonly scaler: GradScaler | null;
  /** The autocast dtype, or null for '32-true'. */
  readonly dtype: AutocastDType | null;

  constructor(name: PrecisionName) {
    this.name = name;
    this.dtype = name === '32-true' ? null : name.startsWith('bf16') ? 'bfloat16' : 'float16';
    this.scaler = name === '16-mixed' ? new GradScaler() : null;
  }

  /** Whether the weights themselves are 16-bit values ('16-true', 'bf16-true'). */
  get trueHalf(): boolean {
    return this.name === '16-true' || this.name === 'bf16-true';
  }

  /**
   * Refuses manual optimization where this setting needs the automatic optimizer step (the
   * loss scaling and the 16-bit weight rounding hook into it).
   */
  checkManualOptimization(automaticOptimization: boolean): void {
    if (automaticOptimization || (this.scaler === null && !this.trueHalf)) return;
    throw new NotAvailableYetError(
      `Trainer: precision '${this.name}' with manual optimization is not available yet (the loss scaling and 16-bit weight rounding hook into the automatic optimizer step); expected automaticOptimization or precision '32-true' / 'bf16-mixed', got manual optimization with '${this.name}'`,
    );
  }

  /** Runs a step function under autocast (or as is for '32-true'). */
  forward<T>(fn: () => T): T {
    return this.dtype === null ? fn() : autocast({ dtype: this.dtype }, fn);
  }

  /** The loss to call backward on: scaled for '16-mixed'. */
  scaleLoss(loss: Tensor): Tensor {
    return this.scaler === null ? loss : this.scaler.scale(loss);
  }

  /** '16-mixed': divides `optimizer`'s gradients by the scale (before hooks and clipping see them). */
  unscaleGradients(optimizer: Optimizer): void {
    this.scaler?.unscale_(optimizer);
  }

  /**
   * The optimizer step: the scaler's step (skipped on inf/NaN) and update for '16-mixed',
   * else `optimizer.step()`; then, for the true-half settings, the weights rounded back to
   * 16-bit values. Returns a promise only for '16-mixed' (it reads back one number).
   */
  step(optimizer: Optimizer): Promise<void> | void {
    if (this.scaler !== null) {
      const scaler = this.scaler;
      return scaler.step(optimizer).then(() => {
        scaler.update();
      });
    }
    optimizer.step();
    if (this.trueHalf) this.roundParameters(optimizer.paramGroups.flatMap((g) => g.params));
    return undefined;
  }

  /** Rounds float32 `params` in place to the 16-bit format ('16-true' / 'bf16-true' only). */
  roundParameters(params: Iterable<Tensor>): void {
    if (!this.trueHalf) return;
    const op = this.dtype === 'float16' ? 'round_f16' : 'round_bf16';
    noGrad(() => {
      for (const p of params) {
        if (p.dtype !== 'float32' || !p.isContiguous()) continue;
        const r = runOp(op, p.backend, p.dtype, p.shape, [p.view_()], {});
        p.backend.run('copy', p.view_(), [r.view_()], {});
        r.dispose();
      }
    });
  }

  /**
   * The batch as the step sees it: for the true-half settings, every float32 tensor (in arrays,
   * plain objects and Maps) rounded to the 16-bit format, as Lightning's HalfPrecision
   * `convert_input` casts floating inputs; otherwise the batch itself.
   * @example precision.convertInput([x, y]) // [x as float16 values, y]
   */
  convertInput(batch: unknown): unknown {
    if (!this.trueHalf) return batch;
    const op = this.dtype === 'float16' ? 'round_f16' : 'round_bf16';
    const convert = (x: unknown): unknown => {
      if (x instanceof Tensor)
        return x.dtype === 'float32' ? noGrad(() => runOp(op, x.backend, x.dtype, x.shape, [x.view_()], {})) : x;
      if (Array.isArray(x)) return x.map(convert);
      if (x instanceof Map) return new Map([...(x as Map<unknown, unknown>)].map(([k, v]) => [k, convert(v)]));
      if (typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype) {
        return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, convert(v)]));
      }
      return x;
    };
    return convert(batch);
  }

  /** The checkpoint key and state of Lightning's plugin: `MixedPrecision` → the scaler's state dict, or null. */
  checkpointState(): [string, Record<string, unknown>] | null {
    if (this.scaler === null) return null;
    return ['MixedPrecision', { ...this.scaler.stateDict() }];
  }

  /** Restores the scaler from a checkpoint's `MixedPrecision` (or Lightning 1.x's `native_amp_scaling_state`). */
  loadCheckpointState(ckpt: Readonly<Record<string, unknown>>): void {
    if (this.scaler === null) return;
    const s = ckpt['MixedPrecision'] ?? ckpt['native_amp_scaling_state'];
    if (typeof s === 'object' && s !== null && !(s instanceof Map))
      this.scaler.loadStateDict(s as Record<string, unknown>);
    else if (s instanceof Map) this.scaler.loadStateDict(Object.fromEntries(s as Map<string, unknown>));
  }

  /**
   * A state dict's tensors as the checkpoint stores them: float tensors marked torch.float16 /
   * torch.bfloat16 for the true-half settings (Lightning's HalfPrecision saves the half module's
   * weights), else unchanged.
   */
  checkpointWeights(sd: Map<string, Tensor>): Map<string, Tensor> | Map<string, Tensor | Float16Tensor> {
    if (!this.trueHalf) return sd;
    const mark = this.dtype === 'float16' ? half : bfloat16;
    return new Map([...sd].map(([k, t]) => [k, t.dtype === 'float32' || t.dtype === 'float64' ? mark(t) : t]));
  }
}
