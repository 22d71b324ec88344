/**
 * @module io/tfevents — TensorBoard event files as pure functions: TFRecord
 * framing, the Event / Summary protobufs, histograms and hparams summaries.
 *
 * Field numbers follow TensorFlow's `event.proto`, `summary.proto`,
 * `tensor.proto`, `tensor_shape.proto` and TensorBoard's hparams
 * `plugin_data.proto` / `api.proto`. Writing files is the loggers' job
 * (runtime/lightning/loggers); nothing here touches the platform.
 */
import { ValueError } from '../errors.ts';
import { crc32c, maskCrc32c } from './crc32c.ts';
import { ProtoWriter } from './protobuf.ts';

/**
 * The `file_version` TensorBoard expects in the first event of a file.
 * @example eventRecord({ wallTime: Date.now() / 1000, step: 0, fileVersion: FILE_VERSION })
 */
export const FILE_VERSION = 'brain.Event:2';

/** DT_FLOAT in TensorFlow's types.proto, e.g. `{ dtype: DT_FLOAT, shape: [], floatVal: [0] }`. */
export const DT_FLOAT = 1;
/** DT_STRING in TensorFlow's types.proto, e.g. `{ dtype: DT_STRING, shape: [1], stringVal: ['text'] }`. */
export const DT_STRING = 7;

/** HistogramProto: counts per bucket, `bucket[i]` holding values up to `bucketLimit[i]`. */
export interface Histogram {
  readonly min: number;
  readonly max: number;
  readonly num: number;
  readonly sum: number;
  readonly sumSquares: number;
  readonly bucketLimit: readonly number[];
  readonly bucket: readonly number[];
}

/** Summary.Image: an encoded (PNG) image; colorspace 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
export interface SummaryImage {
  readonly height: number;
  readonly width: number;
  readonly colorspace: number;
  readonly encoded: Uint8Array;
}

/** The parts of TensorProto this writer emits: a dtype, a shape and string or float values. */
export interface SummaryTensor {
  readonly dtype: number;
  readonly shape: readonly number[];
  readonly stringVal?: readonly (string | Uint8Array)[];
  readonly floatVal?: readonly number[];
}

/** SummaryMetadata: which plugin owns a value, and its plugin-specific content. */
export interface SummaryMetadata {
  readonly pluginName: string;
  readonly content?: Uint8Array;
  readonly displayName?: string;
  readonly description?: string;
}

/** One Summary.Value: a tag and exactly one of the value kinds (or none, with metadata). */
export interface SummaryValue {
  readonly tag: string;
  readonly simpleValue?: number;
  readonly image?: SummaryImage;
  readonly histo?: Histogram;
  readonly tensor?: SummaryTensor;
  readonly metadata?: SummaryMetadata;
}

/** One Event: a time (seconds since the epoch), a step, and a file version or a summary. */
export interface TfEvent {
  readonly wallTime: number;
  readonly step: number;
  readonly fileVersion?: string;
  readonly summary?: readonly SummaryValue[];
}

// ------------------------------------------------------------------ framing

/**
 * One TFRecord: uint64 LE length, masked CRC-32C of those 8 bytes, the data,
 * masked CRC-32C of the data (TensorFlow's record_writer.cc).
 * @example const record = frameRecord(encodeEvent({ wallTime: 0, step: 0, fileVersion: FILE_VERSION }));
 */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 16);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length >>> 0, true);
  view.setUint32(4, Math.floor(data.length / 4294967296), true);
  view.setUint32(8, maskCrc32c(crc32c(out.subarray(0, 8))), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskCrc32c(crc32c(data)), true);
  return out;
}

/**
 * Concatenates byte arrays (records into a file body).
 * @example concatBytes([frameRecord(a), frameRecord(b)])
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---------------------------------------------------------------- messages

function encodeHistogram(h: Histogram): ProtoWriter {
  return new ProtoWriter()
    .double(1, h.min)
    .double(2, h.max)
    .double(3, h.num)
    .double(4, h.sum)
    .double(5, h.sumSquares)
    .packedDouble(6, h.bucketLimit)
    .packedDouble(7, h.bucket);
}

function encodeImage(img: SummaryImage): ProtoWriter {
  return new ProtoWriter().varint(1, img.height).varint(2, img.width).varint(3, img.colorspace).bytes(4, img.encoded);
}

const UTF8 = new TextEncoder();

function encodeTensor(t: SummaryTensor): ProtoWriter {
  const shape = new ProtoWriter();
  for (const size of t.shape) shape.message(2, new ProtoWriter().int64(1, size));
  const w = new ProtoWriter().varint(1, t.dtype).message(2, shape);
  if (t.floatVal !== undefined) w.packedFloat(5, t.floatVal);
  for (const s of t.stringVal ?? []) w.bytes(8, typeof s === 'string' ? UTF8.encode(s) : s);
  return w;
}

function encodeMetadata(m: SummaryMetadata): ProtoWriter {
  const plugin = new ProtoWriter().string(1, m.pluginName);
  if (m.content !== undefined && m.content.length > 0) plugin.bytes(2, m.content);
  const w = new ProtoWriter().message(1, plugin);
  if (m.displayName !== undefined) w.string(2, m.displayName);
  if (m.description !== undefined) w.string(3, m.description);
  return w;
}

function encodeValue(v: SummaryValue): ProtoWriter {
  const w = new ProtoWriter().string(1, v.tag);
  const kinds = [v.simpleValue, v.image, v.histo, v.tensor].filter((k) => k !== undefined).length;
  if (kinds > 1) {
    throw new ValueError(
      `tfevents: summary value '${v.tag}' sets several kinds; expected at most one of simpleValue, image, histo, tensor, got ${kinds}`,
    );
  }
  // simple_value sits in a oneof, so 0 is written too (presence matters).
  if (v.simpleValue !== undefined) w.float(2, v.simpleValue);
  if (v.image !== undefined) w.message(4, encodeImage(v.image));
  if (v.histo !== undefined) w.message(5, encodeHistogram(v.histo));
  if (v.tensor !== undefined) w.message(8, encodeTensor(v.tensor));
  if (v.metadata !== undefined) w.message(9, encodeMetadata(v.metadata));
  return w;
}

/**
 * The bytes of a Summary message (`repeated Value value = 1`).
 * @example encodeSummary([{ tag: 'loss', simpleValue: 0.5 }])
 */
export function encodeSummary(values: readonly SummaryValue[]): Uint8Array {
  const w = new ProtoWriter();
  for (const v of values) w.message(1, encodeValue(v));
  return w.finish();
}

/**
 * The bytes of an Event message (wall_time 1, step 2, file_version 3, summary 5).
 * @example encodeEvent({ wallTime: Date.now() / 1000, step: 3, summary: [{ tag: 'loss', simpleValue: 0.5 }] })
 */
export function encodeEvent(event: TfEvent): Uint8Array {
  if (!Number.isSafeInteger(event.step)) {
    throw new ValueError(`tfevents: event step is not an integer; expected a safe integer, got ${event.step}`);
  }
  const w = new ProtoWriter().double(1, event.wallTime);
  if (event.step !== 0) w.int64(2, event.step);
  if (event.fileVersion !== undefined) w.string(3, event.fileVersion);
  if (event.summary !== undefined) w.bytes(5, encodeSummary(event.summary));
  return w.finish();
}

/**
 * One framed Event record, ready to append to an event file.
 * @example const bytes = eventRecord({ wallTime: 0, step: 0, fileVersion: FILE_VERSION });
 */
export function eventRecord(event: TfEvent): Uint8Array {
  return frameRecord(encodeEvent(event));
}

/**
 * TensorBoard's event file name, as TensorFlow's EventFileWriter makes it:
 * `events.out.tfevents.<10-digit unix seconds>.<host>.<pid>.<n>`.
 * @example eventFileName({ seconds: 1700000000, hostname: 'box', pid: 42, index: 0 })
 * // 'events.out.tfevents.1700000000.box.42.0'
 */
export function eventFileName(parts: {
  seconds: number;
  hostname: string;
  pid: number | string;
  index: number;
}): string {
  const seconds = String(Math.floor(parts.seconds)).padStart(10, '0');
  return `events.out.tfevents.${seconds}.${parts.hostname}.${parts.pid}.${parts.index}`;
}

// ---------------------------------------------------------------- summaries

/**
 * A scalar value (Summary.Value.simple_value, a float32), as `add_scalar` writes it.
 * @example eventRecord({ wallTime: t, step: 1, summary: [scalarSummary('loss', 0.25)] })
 */
export function scalarSummary(tag: string, value: number): SummaryValue {
  return { tag, simpleValue: value };
}

/**
 * A text value: the "text" plugin reads a DT_STRING tensor of shape [1]
 * (torch.utils.tensorboard's `text` summary; its TextPluginData content is empty).
 * @example textSummary('notes/text_summary', '**bold** markdown')
 */
export function textSummary(tag: string, text: string): SummaryValue {
  return {
    tag,
    tensor: { dtype: DT_STRING, shape: [1], stringVal: [text] },
    metadata: { pluginName: 'text' },
  };
}

/**
 * An image value holding encoded PNG bytes; `channels` becomes the colorspace.
 * @example imageSummary('samples', { height: 28, width: 28, channels: 1, png })
 */
export function imageSummary(
  tag: string,
  image: { height: number; width: number; channels: number; png: Uint8Array },
): SummaryValue {
  return { tag, image: { height: image.height, width: image.width, colorspace: image.channels, encoded: image.png } };
}

let defaultEdges: Float64Array | undefined;

/**
 * TensorFlow's default histogram bucket edges, as torch.utils.tensorboard's
 * `bins='tensorflow'`: ±1e-12 · 1.1^k up to 1e20, mirrored, with 0 between
 * (1,547 edges).
 * @example defaultHistogramEdges()[773] // 0
 */
export function defaultHistogramEdges(): Float64Array {
  if (defaultEdges === undefined) {
    const pos: number[] = [];
    for (let v = 1e-12; v < 1e20; v *= 1.1) pos.push(v);
    const edges = new Float64Array(pos.length * 2 + 1);
    for (let i = 0; i < pos.length; i++) {
      edges[pos.length - 1 - i] = -pos[i]!;
      edges[pos.length + 1 + i] = pos[i]!;
    }
    defaultEdges = edges;
  }
  return defaultEdges;
}

/**
 * A histogram of `values` over `edges` (default {@link defaultHistogramEdges}),
 * as torch.utils.tensorboard's `make_histogram`: numpy-style bins
 * `[e_i, e_i+1)` (the last closed), trimmed to the non-empty range plus one
 * empty bucket before it, `bucketLimit` holding each bucket's right edge.
 * Values outside the edges count in min/max/num/sum but in no bucket, as numpy does.
 * @example const h = histogram(new Float32Array([0.5, 1, 2]));
 */
export function histogram(values: ArrayLike<number>, edges: ArrayLike<number> = defaultHistogramEdges()): Histogram {
  const n = values.length;
  if (n === 0) {
    throw new ValueError('histogram: no values; expected at least one value, got an empty array');
  }
  if (edges.length < 2) {
    throw new ValueError(`histogram: too few bucket edges; expected at least 2, got ${edges.length}`);
  }
  const nb = edges.length - 1;
  const counts = new Float64Array(nb);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  const lo = edges[0]!;
  const hi = edges[nb]!;
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    if (Number.isNaN(x)) {
      throw new ValueError(`histogram: value ${i} is NaN; expected finite values or ±Infinity, got NaN`);
    }
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
    sumSquares += x * x;
    if (x < lo || x > hi) continue;
    // Binary search for the last edge <= x; x == hi falls in the last bucket.
    let a = 0;
    let b = nb;
    while (b - a > 1) {
      const m = (a + b) >>> 1;
      if (edges[m]! <= x) a = m;
      else b = m;
    }
    counts[a]! += 1;
  }
  let first = -1;
  let last = -1;
  for (let i = 0; i < nb; i++) {
    if (counts[i]! > 0) {
      if (first < 0) first = i;
      last = i;
    }
  }
  const bucketLimit: number[] = [];
  const bucket: number[] = [];
  if (first >= 0) {
    // One empty bucket before the first non-empty one, so the chart starts at 0.
    if (first === 0) {
      bucketLimit.push(edges[0]!);
      bucket.push(0);
    } else {
      bucketLimit.push(edges[first]!);
      bucket.push(0);
    }
    for (let i = first; i <= last; i++) {
      bucketLimit.push(edges[i + 1]!);
      bucket.push(counts[i]!);
    }
  }
  return { min, max, num: n, sum, sumSquares, bucketLimit, bucket };
}

/**
 * A histogram value for `values` (see {@link histogram}).
 * @example histogramSummary('encoder.0.weight', weights)
 */
export function histogramSummary(tag: string, values: ArrayLike<number>, edges?: ArrayLike<number>): SummaryValue {
  return { tag, histo: histogram(values, edges) };
}

// ------------------------------------------------------------------ hparams

/** A hyperparameter value TensorBoard's hparams plugin can show. */
export type HParamValue = string | number | boolean;

/** TensorBoard hparams session status (api.proto Status). */
export type HParamsStatus = 'unknown' | 'success' | 'failure' | 'running';

const STATUS_CODE: Record<HParamsStatus, number> = { unknown: 0, success: 1, failure: 2, running: 3 };

/**
 * The tags TensorBoard's hparams plugin looks for (plugins/hparams/metadata.py).
 * @example HPARAMS_TAGS.experiment // '_hparams_/experiment'
 */
export const HPARAMS_TAGS = {
  experiment: '_hparams_/experiment',
  sessionStartInfo: '_hparams_/session_start_info',
  sessionEndInfo: '_hparams_/session_end_info',
} as const;

// google.protobuf.Value: number_value 2, string_value 3, bool_value 4.
function encodeProtoValue(v: HParamValue): ProtoWriter {
  const w = new ProtoWriter();
  if (typeof v === 'number') return w.double(2, v);
  if (typeof v === 'string') return w.string(3, v);
  return w.bool(4, v);
}

// HParamsPluginData { version 1 (0, omitted), experiment 2 | session_start_info 3 | session_end_info 4 }.
function pluginValue(tag: string, field: 2 | 3 | 4, body: ProtoWriter): SummaryValue {
  const content = new ProtoWriter().message(field, body).finish();
  // TensorBoard's own hparams summaries carry a null float tensor so the data
  // provider lists them as tensors (plugins/hparams/summary.py, NULL_TENSOR).
  return {
    tag,
    tensor: { dtype: DT_FLOAT, shape: [], floatVal: [0] },
    metadata: { pluginName: 'hparams', content },
  };
}

/**
 * The three hparams summaries torch.utils.tensorboard's `hparams()` makes
 * (experiment, session start with the values, session end with a status),
 * for the plugin "hparams" with HParamsPluginData content.
 * @example
 * for (const v of hparamsSummaries({ lr: 1e-3, optimizer: 'adam' }, ['hp_metric'])) events.push({ wallTime, step: 0, summary: [v] });
 */
export function hparamsSummaries(
  hparams: Readonly<Record<string, HParamValue>>,
  metricTags: readonly string[],
  options: { status?: HParamsStatus; startTimeSecs?: number; endTimeSecs?: number } = {},
): [SummaryValue, SummaryValue, SummaryValue] {
  const experiment = new ProtoWriter();
  const start = new ProtoWriter();
  for (const [name, value] of Object.entries(hparams)) {
    const type = typeof value === 'string' ? 1 : typeof value === 'boolean' ? 2 : 3; // DATA_TYPE_STRING/BOOL/FLOAT64
    if (typeof value !== 'string' && typeof value !== 'boolean' && typeof value !== 'number') {
      throw new ValueError(
        `hparams: '${name}' has an unsupported value; expected a string, number or boolean, got ${typeof value}`,
      );
    }
    experiment.message(4, new ProtoWriter().string(1, name).varint(4, type));
    start.message(1, new ProtoWriter().string(1, name).message(2, encodeProtoValue(value)));
  }
  for (const tag of metricTags) {
    experiment.message(5, new ProtoWriter().message(1, new ProtoWriter().string(2, tag)));
  }
  if (options.startTimeSecs !== undefined) start.double(5, options.startTimeSecs);
  const end = new ProtoWriter().varint(1, STATUS_CODE[options.status ?? 'success']);
  if (options.endTimeSecs !== undefined) end.double(2, options.endTimeSecs);
  return [
    pluginValue(HPARAMS_TAGS.experiment, 2, experiment),
    pluginValue(HPARAMS_TAGS.sessionStartInfo, 3, start),
    pluginValue(HPARAMS_TAGS.sessionEndInfo, 4, end),
  ];
}
