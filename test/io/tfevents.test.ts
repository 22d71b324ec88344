/**
 * @module io/tfevents.test — the protobuf encoder against the wire-format
 * examples of the protobuf docs, and Event / Summary records decoded by the
 * independent reader in test/helpers.
 */
import { describe, expect, it } from 'vitest';
import { ValueError } from '../../runtime/errors.ts';
import { ProtoWriter } from '../../runtime/io/protobuf.ts';
import {
  concatBytes,
  defaultHistogramEdges,
  DT_STRING,
  encodeEvent,
  eventFileName,
  eventRecord,
  FILE_VERSION,
  frameRecord,
  histogram,
  histogramSummary,
  hparamsSummaries,
  HPARAMS_TAGS,
  imageSummary,
  scalarSummary,
  textSummary,
} from '../../runtime/io/tfevents.ts';
import { decodeEvent, decodeHParamsPluginData, readRecords } from '../helpers/tfevents-reader.ts';

const bytes = (w: ProtoWriter): number[] => Array.from(w.finish());

describe('protobuf', () => {
  it('protobuf: varints match the encoding guide', () => {
    expect(bytes(new ProtoWriter().varint(1, 150))).toEqual([0x08, 0x96, 0x01]);
    expect(bytes(new ProtoWriter().varint(1, 0))).toEqual([0x08, 0x00]);
    expect(bytes(new ProtoWriter().int64(2, -1))).toEqual([
      0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
    expect(bytes(new ProtoWriter().varint(1, 2 ** 35))).toEqual([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect(bytes(new ProtoWriter().varint(1, 2n ** 63n))).toEqual([
      0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
    ]);
    expect(bytes(new ProtoWriter().bool(3, true))).toEqual([0x18, 0x01]);
  });

  it('protobuf: strings, fixed-width and packed fields match the encoding guide', () => {
    expect(bytes(new ProtoWriter().string(2, 'testing'))).toEqual([
      0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67,
    ]);
    expect(bytes(new ProtoWriter().double(1, 1))).toEqual([0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
    expect(bytes(new ProtoWriter().float(2, 1))).toEqual([0x15, 0, 0, 0x80, 0x3f]);
    expect(bytes(new ProtoWriter().fixed32(1, 0xdeadbeef))).toEqual([0x0d, 0xef, 0xbe, 0xad, 0xde]);
    expect(bytes(new ProtoWriter().fixed64(1, 2 ** 32 + 1))).toEqual([0x09, 1, 0, 0, 0, 1, 0, 0, 0]);
    expect(bytes(new ProtoWriter().packedVarint(4, [3, 270, 86942]))).toEqual([
      0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05,
    ]);
    expect(bytes(new ProtoWriter().packedDouble(6, [1, 2]))).toEqual([
      0x32, 16, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40,
    ]);
    expect(bytes(new ProtoWriter().packedDouble(6, []))).toEqual([]);
    expect(bytes(new ProtoWriter().message(3, new ProtoWriter().varint(1, 150)))).toEqual([
      0x1a, 0x03, 0x08, 0x96, 0x01,
    ]);
  });

  it('protobuf: grows past its first buffer', () => {
    const big = new Uint8Array(1000).fill(7);
    const out = new ProtoWriter().bytes(1, big).varint(2, 1).finish();
    expect(out.length).toBe(1 + 2 + 1000 + 2);
    expect(out[3]).toBe(7);
  });

  it('protobuf: rejects unsafe integers and bad field numbers', () => {
    expect(() => new ProtoWriter().varint(1, 2 ** 53)).toThrow(ValueError);
    expect(() => new ProtoWriter().varint(1, 1.5)).toThrow(/expected an integer within ±2\^53, got 1.5/);
    expect(() => new ProtoWriter().varint(0, 1)).toThrow(
      /invalid field number; expected an integer in \[1, 2\^29-1\], got 0/,
    );
  });
});

describe('tfevents', () => {
  it('tfevents: frames records with both masked CRCs, as the reader checks', () => {
    const a = frameRecord(new Uint8Array([1, 2, 3]));
    const b = frameRecord(new Uint8Array(0));
    expect(a.length).toBe(3 + 16);
    const records = readRecords(concatBytes([a, b]));
    expect(records.map((r) => Array.from(r))).toEqual([[1, 2, 3], []]);
    const corrupt = a.slice();
    corrupt[13] = corrupt[13]! ^ 1;
    expect(() => readRecords(corrupt)).toThrow(/bad data CRC/);
  });

  it('tfevents: the file_version event is the 24-byte record every TensorBoard file starts with', () => {
    const record = eventRecord({ wallTime: 1700000000.25, step: 0, fileVersion: FILE_VERSION });
    expect(Array.from(record.subarray(0, 12))).toEqual([24, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22]);
    const [event] = readRecords(record).map(decodeEvent);
    expect(event).toEqual({ wallTime: 1700000000.25, step: 0, fileVersion: 'brain.Event:2', values: [] });
  });

  it('tfevents: scalar events decode to their tag, step and float32 value', () => {
    const e = decodeEvent(
      encodeEvent({ wallTime: 12.5, step: 2 ** 40, summary: [scalarSummary('loss', 0.1), scalarSummary('zero', 0)] }),
    );
    expect(e.step).toBe(2 ** 40);
    expect(e.wallTime).toBe(12.5);
    expect(e.values).toEqual([
      { tag: 'loss', simpleValue: Math.fround(0.1) },
      { tag: 'zero', simpleValue: 0 },
    ]);
  });

  it('tfevents: text is a DT_STRING tensor of shape [1] owned by the text plugin', () => {
    const [v] = decodeEvent(
      encodeEvent({ wallTime: 0, step: 1, summary: [textSummary('notes/text_summary', 'héllo *md*')] }),
    ).values;
    expect(v!.tag).toBe('notes/text_summary');
    expect(v!.tensor).toEqual({ dtype: DT_STRING, shape: [1], stringVal: ['héllo *md*'], floatVal: [] });
    expect(v!.pluginName).toBe('text');
  });

  it('tfevents: images carry size, colorspace and the encoded bytes', () => {
    const png = new Uint8Array([1, 2, 3]);
    const [v] = decodeEvent(
      encodeEvent({ wallTime: 0, step: 0, summary: [imageSummary('img', { height: 4, width: 5, channels: 3, png })] }),
    ).values;
    expect(v!.image).toEqual({ height: 4, width: 5, colorspace: 3, encoded: png });
  });

  it('tfevents: a value with two kinds is refused', () => {
    expect(() =>
      encodeEvent({ wallTime: 0, step: 0, summary: [{ tag: 't', simpleValue: 1, histo: histogram([1]) }] }),
    ).toThrow(/sets several kinds/);
    expect(() => encodeEvent({ wallTime: 0, step: 0.5 })).toThrow(/expected a safe integer, got 0.5/);
  });

  it("tfevents: event file names follow TensorFlow's pattern", () => {
    expect(eventFileName({ seconds: 1700000000.9, hostname: 'box', pid: 42, index: 3 })).toBe(
      'events.out.tfevents.1700000000.box.42.3',
    );
    expect(eventFileName({ seconds: 5, hostname: 'h', pid: 1, index: 0 })).toBe('events.out.tfevents.0000000005.h.1.0');
  });
});

describe('histogram', () => {
  it('histogram: default edges are ±1e-12·1.1^k below 1e20 around 0', () => {
    const e = defaultHistogramEdges();
    const n = (e.length - 1) / 2;
    expect(e[n]).toBe(0);
    expect(e[n + 1]).toBe(1e-12);
    expect(e[n - 1]).toBe(-1e-12);
    expect(e[e.length - 1]!).toBeLessThan(1e20);
    expect(e[e.length - 1]! * 1.1).toBeGreaterThanOrEqual(1e20);
    for (let i = 1; i < e.length; i++) expect(e[i]!).toBeGreaterThan(e[i - 1]!);
  });

  it("histogram: trims to the non-empty range plus one empty bucket, as torch's make_histogram", () => {
    expect(histogram([0.5, 1, 2], [0, 1, 2, 3])).toEqual({
      min: 0.5,
      max: 2,
      num: 3,
      sum: 3.5,
      sumSquares: 5.25,
      bucketLimit: [0, 1, 2, 3],
      bucket: [0, 1, 1, 1],
    });
    expect(histogram([1.5], [0, 1, 2, 3])).toMatchObject({ bucketLimit: [1, 2], bucket: [0, 1] });
    // Out-of-range values count in num and sum but in no bucket (numpy's histogram).
    expect(histogram([-5, 1.5], [0, 1, 2, 3])).toMatchObject({ num: 2, min: -5, bucketLimit: [1, 2], bucket: [0, 1] });
  });

  it('histogram: default buckets hold every value, each under its right edge', () => {
    const values = Float32Array.from({ length: 500 }, (_, i) => Math.sin(i * 1.7) * 3 ** ((i % 7) - 3));
    const h = histogram(values);
    expect(h.num).toBe(500);
    expect(h.bucket.reduce((a, b) => a + b, 0)).toBe(500);
    expect(h.bucket[0]).toBe(0);
    expect(h.bucket[h.bucket.length - 1]).toBeGreaterThan(0);
    const edges = Array.from(defaultHistogramEdges());
    // Recount independently: bucket j covers [previous edge, bucketLimit[j]).
    for (let j = 1; j < h.bucketLimit.length; j++) {
      const hi = h.bucketLimit[j]!;
      const lo = edges[edges.indexOf(hi) - 1]!;
      expect(h.bucket[j]).toBe(Array.from(values).filter((v) => v >= lo && v < hi).length);
    }
    expect(h.min).toBe(Math.min(...values));
    expect(h.max).toBe(Math.max(...values));
  });

  it('histogram: encodes packed limits and counts', () => {
    const [v] = decodeEvent(
      encodeEvent({ wallTime: 0, step: 3, summary: [histogramSummary('w', [0.5, 1, 2], [0, 1, 2, 3])] }),
    ).values;
    expect(v!.histo).toEqual({
      min: 0.5,
      max: 2,
      num: 3,
      sum: 3.5,
      sumSquares: 5.25,
      bucketLimit: [0, 1, 2, 3],
      bucket: [0, 1, 1, 1],
    });
  });

  it('histogram: refuses empty input and NaN', () => {
    expect(() => histogram([])).toThrow(/expected at least one value, got an empty array/);
    expect(() => histogram([1, Number.NaN])).toThrow(/value 1 is NaN/);
  });
});

describe('hparams', () => {
  it('hparams: experiment, session start and end decode as the hparams plugin reads them', () => {
    const values = hparamsSummaries({ lr: 0.001, optimizer: 'adam', amsgrad: false }, ['hp_metric', 'val_loss']);
    expect(values.map((v) => v.tag)).toEqual([
      HPARAMS_TAGS.experiment,
      HPARAMS_TAGS.sessionStartInfo,
      HPARAMS_TAGS.sessionEndInfo,
    ]);
    const decoded = decodeEvent(encodeEvent({ wallTime: 0, step: 0, summary: values })).values;
    for (const v of decoded) {
      expect(v.pluginName).toBe('hparams');
      expect(v.tensor).toEqual({ dtype: 1, shape: [], stringVal: [], floatVal: [0] });
    }
    const [exp, start, end] = decoded.map((v) => decodeHParamsPluginData(v.pluginContent!));
    expect(exp!.kind).toBe('experiment');
    expect(exp!.hparamInfos).toEqual([
      { name: 'lr', type: 3 },
      { name: 'optimizer', type: 1 },
      { name: 'amsgrad', type: 2 },
    ]);
    expect(exp!.metricTags).toEqual(['hp_metric', 'val_loss']);
    expect(start!.kind).toBe('sessionStart');
    expect(start!.hparams).toEqual({ lr: 0.001, optimizer: 'adam', amsgrad: false });
    expect(end).toMatchObject({ kind: 'sessionEnd', status: 1 });
  });
});
