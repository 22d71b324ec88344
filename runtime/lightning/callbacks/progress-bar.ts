/**
 * @module lightning/callbacks/progress-bar — one line that redraws in place (TTY), or plain
 * periodic lines (not a TTY).
 *
 * On a TTY the bar redraws with a carriage return at most `1000 / refreshMs` times a second
 * (default 10), so drawing never costs a step. Validation shows on the same line as a suffix
 * instead of a second bar, so the training bar is never broken into a line per step. Metric
 * values are read back only when the bar redraws.
 */
import { getPlatform } from '../../platform.ts';
import type { LightningModule } from '../module.ts';
import type { Trainer } from '../trainer.ts';
import { Callback } from './callback.ts';

/** Options of {@link ProgressBar}. */
export interface ProgressBarOptions {
  /** The least time between redraws on a TTY, in ms (default 100). */
  readonly refreshMs?: number;
  /** Not a TTY: a line every this fraction of an epoch (default 0.1), plus one at each epoch end. */
  readonly lineEvery?: number;
  /** Override the TTY detection of the platform's stdout. */
  readonly isTTY?: boolean;
  /** Where the text goes (default the platform's stdout). */
  readonly write?: (text: string) => void;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

function fmtNum(v: number): string {
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : v.toPrecision(3);
}

/**
 * The Trainer's progress display; replace it by passing your own subclass in `callbacks`.
 * @example new Trainer({ callbacks: [new ProgressBar({ refreshMs: 500 })] })
 */
export class ProgressBar extends Callback {
  readonly refreshMs: number;
  readonly lineEvery: number;
  readonly #isTTY: boolean | undefined;
  readonly #write: ((text: string) => void) | undefined;
  #lastDraw = -Infinity;
  #epochStart = 0;
  #lastLineAt = -1;
  #lastWidth = 0;
  #validating = '';
  #enabled = true;

  constructor(options: ProgressBarOptions = {}) {
    super();
    this.refreshMs = options.refreshMs ?? 100;
    this.lineEvery = options.lineEvery ?? 0.1;
    this.#isTTY = options.isTTY;
    this.#write = options.write;
  }

  /** Turns drawing off (the Trainer does this for `enableProgressBar: false`). */
  disable(): void {
    this.#enabled = false;
  }

  get isTTY(): boolean {
    return this.#isTTY ?? getPlatform().stdout.isTTY;
  }

  #out(text: string): void {
    if (this.#write !== undefined) this.#write(text);
    else getPlatform().stdout.write(text);
  }

  /** The text of the bar: `Epoch 0:  45%|████▌     | 141/313 [00:02<00:02, 61.2it/s, loss=0.0512, v_num=0]`. */
  render(trainer: Trainer): string {
    const done = trainer.progress.batchesInEpoch;
    const total = trainer.numTrainingBatches;
    const elapsed = (getPlatform().now() - this.#epochStart) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const known = Number.isFinite(total) && total > 0;
    const frac = known ? Math.min(1, done / total) : 0;
    const width = 10;
    const full = Math.floor(frac * width);
    const partial = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'][Math.floor((frac * width - full) * 8)] ?? '';
    const bar = known ? `${'█'.repeat(full)}${partial}`.padEnd(width) : '';
    const remaining = known && rate > 0 ? (total - done) / rate : NaN;
    const parts: string[] = [`${rate.toFixed(2)}it/s`];
    const m = this.metrics(trainer);
    for (const [k, v] of Object.entries(m)) parts.push(`${k}=${typeof v === 'number' ? fmtNum(v) : v}`);
    const head = `Epoch ${trainer.currentEpoch}: ${known ? `${String(Math.round(frac * 100)).padStart(3)}%|${bar}| ${done}/${total}` : `${done}/?`}`;
    return `${head} [${fmtTime(elapsed)}<${fmtTime(remaining)}, ${parts.join(', ')}]${this.#validating}`;
  }

  /** What the bar shows after the counts: the smoothed loss, `v_num`, and progBar metrics. */
  metrics(trainer: Trainer): Record<string, number | string> {
    const out: Record<string, number | string> = {};
    if (trainer.smoothedLoss !== null) out['loss'] = trainer.smoothedLoss;
    const v = trainer.loggers[0];
    if (v !== undefined) {
      try {
        out['v_num'] = v.version;
      } catch {
        /* version not resolved */
      }
    }
    Object.assign(out, trainer.progressBarMetrics);
    return out;
  }

  #draw(trainer: Trainer, final = false): void {
    if (!this.#enabled || !trainer.isGlobalZero) return;
    if (this.isTTY) {
      const text = this.render(trainer);
      const pad = Math.max(0, this.#lastWidth - text.length);
      this.#lastWidth = text.length;
      this.#out(`\r${text}${' '.repeat(pad)}${final ? '\n' : ''}`);
      if (final) this.#lastWidth = 0;
    } else {
      this.#out(`${this.render(trainer)}\n`);
    }
  }

  override onTrainEpochStart(): void {
    this.#epochStart = getPlatform().now();
    this.#lastLineAt = -1;
    this.#lastDraw = -Infinity;
  }

  // Not async: most steps draw nothing, and then this returns without a promise (the Trainer
  // awaits only promises), which bench/trainer.mjs measures at batch 1.
  override onTrainBatchEnd(trainer: Trainer): Promise<void> | void {
    if (!this.#enabled) return;
    const done = trainer.progress.batchesInEpoch;
    if (this.isTTY) {
      const now = getPlatform().now();
      if (now - this.#lastDraw < this.refreshMs) return;
      this.#lastDraw = now;
      return this.#refreshAndDraw(trainer);
    }
    const total = trainer.numTrainingBatches;
    const every = Number.isFinite(total)
      ? Math.max(1, Math.floor(total * this.lineEvery))
      : trainer.options.logEveryNSteps;
    if (done % every === 0 && done !== this.#lastLineAt && done < total) {
      this.#lastLineAt = done;
      return this.#refreshAndDraw(trainer);
    }
  }

  async #refreshAndDraw(trainer: Trainer): Promise<void> {
    await trainer.loggerConnector.refreshMetrics();
    this.#draw(trainer);
  }

  override async onValidationBatchEnd(
    trainer: Trainer,
    _module: LightningModule,
    _outputs: unknown,
    _batch: unknown,
    batchIdx: number,
  ): Promise<void> {
    if (!this.#enabled || !this.isTTY || trainer.sanityChecking || !trainer.training) return;
    const now = getPlatform().now();
    if (now - this.#lastDraw < this.refreshMs) return;
    this.#lastDraw = now;
    this.#validating = ` Validating ${batchIdx + 1}/${trainer.numValBatches[0] ?? '?'}`;
    this.#draw(trainer);
  }

  override onValidationEnd(trainer: Trainer): void {
    if (!this.#enabled || !trainer.isGlobalZero) return;
    if (trainer.sanityChecking || !trainer.training) {
      if (!this.isTTY && !trainer.sanityChecking) this.#out(`Validation: ${JSON.stringify(trainer.callbackMetrics)}\n`);
      return;
    }
    this.#validating = '';
    if (this.isTTY) this.#draw(trainer);
  }

  override async onTrainEpochEnd(trainer: Trainer): Promise<void> {
    if (!this.#enabled) return;
    await trainer.loggerConnector.refreshMetrics();
    this.#draw(trainer, true);
  }
}
