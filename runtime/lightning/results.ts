/**
 * @module lightning/results — what `this.log` records, and when it is read.
 *
 * Logged tensors stay on the device: each `log` keeps a detached alias of the value, and
 * nothing is read back until the Trainer flushes (every `logEveryNSteps` steps, when the
 * progress bar redraws, and at epoch ends). Epoch values are reduced as Lightning's
 * `_ResultMetric`: `mean` weighted by batch size, `sum`, `max`, `min`.
 */
import { keep } from '../memory.ts';
import { Tensor } from '../tensor/index.ts';
import { MisconfigurationError } from './errors.ts';

/** How epoch values are combined. */
export type ReduceFx = 'mean' | 'sum' | 'max' | 'min';

/** Which loop a value was logged in. */
export type LogStage = 'train' | 'validation' | 'test' | 'predict' | 'sanity';

/** Options of `LightningModule.log`, as Lightning's `self.log` keywords. */
export interface LogOptions {
  /** Record the value at this step (default: true in training steps, false elsewhere). */
  readonly onStep?: boolean;
  /** Reduce over the epoch (default: false in training steps, true elsewhere). */
  readonly onEpoch?: boolean;
  /** Show in the progress bar (default false). */
  readonly progBar?: boolean;
  /** Send to the loggers (default true). */
  readonly logger?: boolean;
  /** Epoch reduction (default 'mean', weighted by batch size). */
  readonly reduceFx?: ReduceFx;
  /** The batch size for the weighted mean (default: the first dim of the batch's first tensor). */
  readonly batchSize?: number;
  /**
   * Average across ranks under `strategy: 'ddp'` (a no-op on one device): the value of each
   * call is reduced (mean) over the ranks right after the step or hook that logged it, so every
   * rank must log the same syncDist keys in the same order, as in Lightning.
   */
  readonly syncDist?: boolean;
}

type Value = Tensor | number;

const REDUCE_FX: ReadonlySet<string> = new Set<ReduceFx>(['mean', 'sum', 'max', 'min']);

interface Entry {
  readonly name: string;
  readonly stage: LogStage;
  readonly onStep: boolean;
  readonly onEpoch: boolean;
  readonly progBar: boolean;
  readonly logger: boolean;
  readonly reduceFx: ReduceFx;
  /** The latest step value, unread or read. */
  step: Value | undefined;
  /** Logged since the loggers last saw it. */
  stepFresh: boolean;
  /** Epoch contributions not read back yet. */
  pending: [Value, number][];
  sum: number;
  weight: number;
  max: number;
  min: number;
  count: number;
  /** Values of this entry waiting for the cross-rank mean; flush leaves the entry alone meanwhile. */
  syncing: number;
}

/** One syncDist value waiting for {@link ResultCollection.syncDistributed}. */
interface SyncItem {
  readonly entry: Entry;
  readonly value: Value;
  readonly step: boolean;
  readonly item: [Value, number] | null;
}

/** The names a logged key appears under (Lightning's `_forked_name`). */
function stepName(e: Entry): string {
  return e.onStep && e.onEpoch ? `${e.name}_step` : e.name;
}
function epochName(e: Entry): string {
  return e.onStep && e.onEpoch ? `${e.name}_epoch` : e.name;
}

/** The three views of metrics Lightning keeps. */
export interface MetricViews {
  readonly callback: Record<string, number>;
  readonly logger: Record<string, number>;
  readonly progBar: Record<string, number>;
}

async function read(v: Value): Promise<number> {
  if (typeof v === 'number') return v;
  const x = (await v.data())[0]!;
  v.dispose();
  return Number(x);
}

/**
 * The Trainer's record of logged values for one run of a loop.
 * @example
 * const r = new ResultCollection();
 * r.log('train', 'loss', tensor(0.5), { onStep: true, onEpoch: true }, () => 32);
 * await r.flush(); r.stepMetrics().logger // { loss_step: 0.5 }
 */
export class ResultCollection {
  readonly #entries = new Map<string, Entry>();
  readonly #syncQueue: SyncItem[] = [];
  /** Set under DDP: `syncDist` values are then queued for {@link syncDistributed}. */
  distributed = false;

  /** Records one value. `batchSize` is called only when an epoch mean needs it. */
  log(
    stage: LogStage,
    name: string,
    value: unknown,
    options: Required<Pick<LogOptions, 'onStep' | 'onEpoch'>> & LogOptions,
    batchSize: () => number,
  ): void {
    let v: Value;
    if (typeof value === 'number') v = value;
    else if (value instanceof Tensor) {
      if (value.numel() !== 1) {
        throw new MisconfigurationError(
          `log: '${name}' must be a scalar; expected a number or a one-element tensor, got a tensor of shape [${value.shape.join(', ')}]`,
        );
      }
      if (value.dtype !== 'float32' && value.dtype !== 'float64' && value.dtype !== 'int32' && value.dtype !== 'bool') {
        throw new MisconfigurationError(
          `log: '${name}' has an unsupported dtype; expected a numeric tensor, got ${value.dtype}`,
        );
      }
      v = keep(value.detach());
    } else {
      throw new MisconfigurationError(
        `log: '${name}' has an unsupported value; expected a number or a one-element Tensor, got ${value === null ? 'null' : typeof value}`,
      );
    }
    const reduceFx = options.reduceFx ?? 'mean';
    if (!REDUCE_FX.has(reduceFx)) {
      throw new MisconfigurationError(
        `log: invalid reduceFx for '${name}'; expected 'mean', 'sum', 'max' or 'min', got '${String(reduceFx)}'`,
      );
    }
    if (options.batchSize !== undefined && !(Number.isInteger(options.batchSize) && options.batchSize >= 0)) {
      throw new MisconfigurationError(
        `log: invalid batchSize for '${name}'; expected an integer >= 0, got ${String(options.batchSize)}`,
      );
    }
    const key = `${stage}/${name}`;
    let e = this.#entries.get(key);
    if (e === undefined) {
      e = {
        name,
        stage,
        onStep: options.onStep,
        onEpoch: options.onEpoch,
        progBar: options.progBar ?? false,
        logger: options.logger ?? true,
        reduceFx,
        step: undefined,
        stepFresh: false,
        pending: [],
        sum: 0,
        weight: 0,
        max: -Infinity,
        min: Infinity,
        count: 0,
        syncing: 0,
      };
      this.#entries.set(key, e);
    } else if (e.onStep !== options.onStep || e.onEpoch !== options.onEpoch || e.reduceFx !== reduceFx) {
      throw new MisconfigurationError(
        `log: '${name}' was logged with different options in the same loop; expected onStep=${e.onStep}, onEpoch=${e.onEpoch}, reduceFx='${e.reduceFx}', got onStep=${options.onStep}, onEpoch=${options.onEpoch}, reduceFx='${reduceFx}'`,
      );
    }
    if (e.onStep) {
      const old = e.step;
      if (old instanceof Tensor && e.onEpoch === false) old.dispose();
      e.step = v;
      e.stepFresh = true;
    }
    let item: [Value, number] | null = null;
    if (e.onEpoch) {
      const w = e.reduceFx === 'mean' ? (options.batchSize ?? batchSize()) : 1;
      const alias = v instanceof Tensor && e.onStep ? keep(v.detach()) : v;
      item = [alias, w];
      e.pending.push(item);
    }
    if (options.syncDist === true && this.distributed) {
      e.syncing++;
      this.#syncQueue.push({ entry: e, value: v, step: e.onStep, item });
    }
  }

  /**
   * Replaces every queued syncDist value by its mean over the ranks (`allReduceMean` gets this
   * rank's values, the count first, and returns the means). Every rank calls it at the same
   * points of the loops; a rank that logged a different number of syncDist values fails.
   */
  async syncDistributed(allReduceMean: (values: Float32Array) => Promise<Float32Array>): Promise<void> {
    const queue = this.#syncQueue.splice(0);
    if (queue.length === 0) return;
    const local = new Float32Array(queue.length + 1);
    local[0] = queue.length;
    for (let i = 0; i < queue.length; i++) {
      const v = queue[i]!.value;
      local[i + 1] = typeof v === 'number' ? v : Number((await v.data())[0]);
    }
    const means = await allReduceMean(local);
    if (means[0] !== queue.length) {
      throw new MisconfigurationError(
        `log: ranks logged different syncDist values; expected every rank to log the same syncDist keys in the same order, got ${queue.length} on this rank and a mean of ${means[0]} over the ranks (${queue.map((q) => q.entry.name).join(', ')})`,
      );
    }
    for (let i = 0; i < queue.length; i++) {
      const { entry: e, value, step, item } = queue[i]!;
      const mean = means[i + 1]!;
      if (step && e.step === value) e.step = mean;
      if (item !== null) {
        const old = item[0];
        item[0] = mean;
        if (old instanceof Tensor && old !== value) old.dispose();
      }
      if (value instanceof Tensor && e.step !== value) value.dispose();
      e.syncing--;
    }
  }

  /** Reads every value logged since the last flush (the only readback). */
  async flush(): Promise<void> {
    for (const e of this.#entries.values()) {
      if (e.syncing > 0) continue;
      if (e.step instanceof Tensor) e.step = await read(e.step);
      const pending = e.pending;
      e.pending = [];
      for (const [v, w] of pending) {
        const x = await read(v);
        e.sum += e.reduceFx === 'mean' ? x * w : x;
        e.weight += w;
        e.max = Math.max(e.max, x);
        e.min = Math.min(e.min, x);
        e.count++;
      }
    }
  }

  /** Step values (after a flush): for the loggers, only those logged since the last call with `consume`. */
  stepMetrics(stage?: LogStage, consume = false): MetricViews {
    const out: MetricViews = { callback: {}, logger: {}, progBar: {} };
    for (const e of this.#entries.values()) {
      if (stage !== undefined && e.stage !== stage) continue;
      if (!e.onStep || typeof e.step !== 'number') continue;
      const n = stepName(e);
      out.callback[n] = e.step;
      if (e.onStep && !e.onEpoch) out.callback[e.name] = e.step;
      if (e.progBar) out.progBar[n] = e.step;
      if (e.logger && e.stepFresh) out.logger[n] = e.step;
      if (consume) e.stepFresh = false;
    }
    return out;
  }

  /** Epoch values of `stage` (after a flush): the reductions of everything logged with onEpoch. */
  epochMetrics(stage: LogStage): MetricViews {
    const out: MetricViews = { callback: {}, logger: {}, progBar: {} };
    for (const e of this.#entries.values()) {
      if (e.stage !== stage || !e.onEpoch || e.count === 0) continue;
      let v: number;
      switch (e.reduceFx) {
        case 'mean':
          v = e.weight === 0 ? NaN : e.sum / e.weight;
          break;
        case 'sum':
          v = e.sum;
          break;
        case 'max':
          v = e.max;
          break;
        case 'min':
          v = e.min;
          break;
      }
      const n = epochName(e);
      out.callback[n] = v;
      out.callback[e.name] = v;
      if (e.progBar) out.progBar[n] = v;
      if (e.logger) out.logger[n] = v;
    }
    return out;
  }

  /** Forgets `stage`'s entries (at the start of its next epoch), freeing unread tensors. */
  reset(stage: LogStage): void {
    for (const [k, e] of this.#entries) {
      if (e.stage !== stage) continue;
      if (e.step instanceof Tensor) e.step.dispose();
      for (const [v] of e.pending) if (v instanceof Tensor) v.dispose();
      this.#entries.delete(k);
    }
  }

  /** Whether anything of `stage` waits to be read. */
  hasPending(): boolean {
    for (const e of this.#entries.values()) if (e.step instanceof Tensor || e.pending.length > 0) return true;
    return false;
  }
}

/**
 * The batch size Lightning infers: the first dim of the first tensor found in the batch
 * (depth first through arrays, plain objects and Maps); 1 when there is none.
 * @example inferBatchSize([zeros([32, 784]), zeros([32])]) // 32
 */
export function inferBatchSize(batch: unknown): number {
  const stack: unknown[] = [batch];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const x = stack.shift();
    if (x instanceof Tensor) return x.dim() === 0 ? 1 : x.shape[0]!;
    if (x === null || typeof x !== 'object' || seen.has(x)) continue;
    seen.add(x);
    if (Array.isArray(x)) stack.unshift(...(x as unknown[]));
    else if (x instanceof Map) stack.unshift(...x.values());
    else if (Object.getPrototypeOf(x) === Object.prototype) stack.unshift(...Object.values(x));
  }
  return 1;
}
