/**
 * @module lightning/loggers/summary-writer — `logger.experiment` of the
 * TensorBoardLogger: torch.utils.tensorboard's SummaryWriter, in TypeScript casing.
 *
 * Scalars and text are queued at once. Histograms and images read tensors
 * back (and encode PNG), so they return a promise; `flush()` waits for any
 * still in flight, so nothing is lost when a caller does not await them.
 */
import type { Tensor } from '../../tensor/index.ts';
import { ValueError } from '../../errors.ts';
import { encodePng, toUint8 } from '../../io/png.ts';
import { histogram, imageSummary, scalarSummary, textSummary, type SummaryValue } from '../../io/tfevents.ts';
import { EventFileWriter, type EventFileWriterOptions } from './event-file-writer.ts';
import { joinPath } from './logger.ts';

/** Pixels given as plain data: `data` row-major in the layout `shape` describes. */
export interface ImageArray {
  readonly data: ArrayLike<number>;
  readonly shape: readonly number[];
}

/** Layouts {@link SummaryWriter.addImage} accepts, as torch's `dataformats`. */
export type ImageFormat = 'CHW' | 'HWC' | 'HW';

function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && 'dtype' in v && typeof (v as { data?: unknown }).data === 'function';
}

/**
 * Writes TensorBoard summaries into an event file under `logDir`.
 * @example
 * const w = new SummaryWriter('logs/run');
 * w.addScalar('loss', 0.25, 10);
 * await w.addHistogram('weights', model.encoder[0].weight, 10);
 * await w.close();
 */
export class SummaryWriter {
  readonly #logDir: () => Promise<string>;
  readonly #options: EventFileWriterOptions;
  readonly #writer: EventFileWriter;
  readonly #children = new Map<string, EventFileWriter>();
  readonly #inflight = new Set<Promise<void>>();

  constructor(logDir: string | (() => Promise<string>), options: EventFileWriterOptions = {}) {
    this.#logDir = typeof logDir === 'string' ? () => Promise.resolve(logDir) : logDir;
    this.#options = options;
    this.#writer = new EventFileWriter(this.#logDir, options);
  }

  /** The event files written so far, this writer's and those of `addScalars` runs. */
  get files(): readonly string[] {
    return [...this.#writer.files, ...[...this.#children.values()].flatMap((w) => w.files)];
  }

  /** True when queued events should be flushed (see EventFileWriter). */
  get due(): boolean {
    return this.#writer.due || [...this.#children.values()].some((w) => w.due);
  }

  /**
   * Queues summary values as one event (the low-level call the others use).
   * @example w.addSummary([{ tag: 'loss', simpleValue: 1 }], 0)
   */
  addSummary(values: readonly SummaryValue[], step = 0, wallTime = Date.now() / 1000): void {
    this.#writer.add({ wallTime, step: checkStep(step), summary: values });
  }

  /**
   * A scalar, as `add_scalar(tag, value, global_step)`.
   * @example w.addScalar('train_loss', 0.31, 100)
   */
  addScalar(tag: string, value: number, step = 0, wallTime?: number): void {
    if (typeof value !== 'number') {
      throw new ValueError(
        `addScalar: value of '${tag}' is not a number; expected a number (await t.item() for a tensor), got ${typeof value}`,
      );
    }
    this.addSummary([scalarSummary(tag, value)], step, wallTime);
  }

  /**
   * Several scalars on one chart, as `add_scalars`: each key goes to its own
   * run folder `<logDir>/<mainTag with '/' as '_'>_<key>` under the tag `mainTag`.
   * @example w.addScalars('loss', { train: 0.3, val: 0.4 }, 100)
   */
  addScalars(mainTag: string, values: Readonly<Record<string, number>>, step = 0, wallTime = Date.now() / 1000): void {
    for (const [key, value] of Object.entries(values)) {
      const folder = `${mainTag.replace(/\//g, '_')}_${key}`;
      let child = this.#children.get(folder);
      if (child === undefined) {
        child = new EventFileWriter(async () => joinPath(await this.#logDir(), folder), this.#options);
        this.#children.set(folder, child);
      }
      child.add({ wallTime, step: checkStep(step), summary: [scalarSummary(mainTag, value)] });
    }
  }

  #track(work: Promise<void>): Promise<void> {
    this.#inflight.add(work);
    const done = (): void => {
      this.#inflight.delete(work);
    };
    work.then(done, done);
    return work;
  }

  /**
   * A histogram of `values` with TensorFlow's default buckets (torch's
   * `bins='tensorflow'`; see io/tfevents `histogram`), or with `bins` edges.
   * @example await w.addHistogram('encoder.0.weight', layer.weight, step)
   */
  addHistogram(
    tag: string,
    values: Tensor | ArrayLike<number>,
    step = 0,
    options: { bins?: ArrayLike<number>; wallTime?: number } = {},
  ): Promise<void> {
    const wallTime = options.wallTime ?? Date.now() / 1000;
    return this.#track(
      (async () => {
        const data = isTensor(values) ? await values.data() : values;
        this.addSummary([{ tag, histo: histogram(data, options.bins) }], step, wallTime);
      })(),
    );
  }

  /**
   * An image: a Tensor or `{ data, shape }`, CHW by default (C = 1, 3 or 4),
   * floats in [0, 1] or integers in 0..255 (a Uint8Array or an int tensor).
   * Encoded as PNG; floats are scaled by 255 and truncated as torch does.
   * @example await w.addImage('reconstruction', decoded.reshape([1, 28, 28]), step)
   */
  addImage(
    tag: string,
    image: Tensor | ImageArray,
    step = 0,
    options: { dataformats?: ImageFormat; wallTime?: number } = {},
  ): Promise<void> {
    const wallTime = options.wallTime ?? Date.now() / 1000;
    const format = options.dataformats ?? 'CHW';
    return this.#track(
      (async () => {
        const shape = image.shape;
        const data = isTensor(image) ? await image.data() : image.data;
        const kind = isTensor(image)
          ? image.dtype === 'float32' || image.dtype === 'float64'
            ? 'float'
            : 'uint8'
          : data instanceof Uint8Array || data instanceof Uint8ClampedArray
            ? 'uint8'
            : 'float';
        const { height, width, channels, pixels } = toHwc(tag, format, shape, data);
        const png = await encodePng({ width, height, channels, data: toUint8(pixels, kind) });
        this.addSummary([imageSummary(tag, { height, width, channels, png })], step, wallTime);
      })(),
    );
  }

  /**
   * Markdown text, as `add_text`: the tag becomes `<tag>/text_summary` (torch's name).
   * @example w.addText('notes', 'lr **1e-3**', 0)
   */
  addText(tag: string, text: string, step = 0, wallTime?: number): void {
    this.addSummary([textSummary(`${tag}/text_summary`, text)], step, wallTime);
  }

  /** Writes everything queued, waiting for histograms and images still being prepared. */
  async flush(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    await Promise.all([this.#writer.flush(), ...[...this.#children.values()].map((w) => w.flush())]);
  }

  /** Flushes and closes every file. */
  async close(): Promise<void> {
    await this.flush();
    await Promise.all([this.#writer.close(), ...[...this.#children.values()].map((w) => w.close())]);
  }
}

function checkStep(step: number): number {
  if (!Number.isSafeInteger(step)) {
    throw new ValueError(`summary writer: step is not an integer; expected a non-negative integer, got ${step}`);
  }
  return step;
}

function toHwc(
  tag: string,
  format: ImageFormat,
  shape: readonly number[],
  data: ArrayLike<number>,
): { height: number; width: number; channels: 1 | 2 | 3 | 4; pixels: ArrayLike<number> } {
  const rank = format.length;
  if (shape.length !== rank) {
    throw new ValueError(
      `addImage: '${tag}' has the wrong rank for ${format}; expected ${rank} dimensions, got shape [${shape.join(',')}]`,
    );
  }
  if (format === 'HW') return { height: shape[0]!, width: shape[1]!, channels: 1, pixels: data };
  const c = format === 'CHW' ? shape[0]! : shape[2]!;
  const height = format === 'CHW' ? shape[1]! : shape[0]!;
  const width = format === 'CHW' ? shape[2]! : shape[1]!;
  if (c !== 1 && c !== 2 && c !== 3 && c !== 4) {
    throw new ValueError(
      `addImage: '${tag}' has an unsupported channel count; expected 1, 2, 3 or 4 channels in ${format}, got shape [${shape.join(',')}]`,
    );
  }
  if (format === 'HWC' || c === 1) return { height, width, channels: c, pixels: data };
  const plane = height * width;
  const out = new Float64Array(plane * c);
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < plane; i++) out[i * c + ch] = data[ch * plane + i]!;
  }
  return { height, width, channels: c, pixels: out };
}
