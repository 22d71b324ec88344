/**
 * @module helpers/tfevents-reader — an independent reader of TensorBoard event
 * files and PNGs, written from the formats' specifications for the tests.
 *
 * It shares no code with the writers in runtime/io: its CRCs are bit-by-bit
 * loops, its protobuf decoder is generic (field number -> values), and the
 * messages are picked apart by the field numbers of TensorFlow's
 * event.proto / summary.proto / tensor.proto and TensorBoard's hparams protos.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

// ------------------------------------------------------------------ CRCs

function crcBitwise(bytes: Uint8Array, poly: number): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (crc & 1 ? poly : 0);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), one bit at a time. */
export function slowCrc32c(bytes: Uint8Array): number {
  return crcBitwise(bytes, 0x82f63b78);
}

/** CRC-32 (IEEE, reflected polynomial 0xEDB88320), one bit at a time. */
export function slowCrc32(bytes: Uint8Array): number {
  return crcBitwise(bytes, 0xedb88320);
}

function masked(crc: number): number {
  const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
  return (rotated + 0xa282ead8) % 0x100000000;
}

/** Splits a TFRecord file into record payloads, checking both masked CRCs of each. */
export function readRecords(file: Uint8Array): Uint8Array[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < file.length) {
    if (at + 12 > file.length) throw new Error(`tfrecord: truncated header at byte ${at}`);
    const length = Number(view.getBigUint64(at, true));
    const lengthCrc = view.getUint32(at + 8, true);
    if (lengthCrc !== masked(slowCrc32c(file.subarray(at, at + 8))))
      throw new Error(`tfrecord: bad length CRC at byte ${at}`);
    const start = at + 12;
    if (start + length + 4 > file.length) throw new Error(`tfrecord: truncated record at byte ${at}`);
    const data = file.subarray(start, start + length);
    if (view.getUint32(start + length, true) !== masked(slowCrc32c(data)))
      throw new Error(`tfrecord: bad data CRC at byte ${at}`);
    out.push(data);
    at = start + length + 4;
  }
  return out;
}

// -------------------------------------------------------------- protobuf

type Field = { wire: 0; value: bigint } | { wire: 1 | 5 | 2; value: Uint8Array };

/** Decodes one message into its fields by number (repeated fields keep their order). */
export function fields(bytes: Uint8Array): Map<number, Field[]> {
  const map = new Map<number, Field[]>();
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= bytes.length) throw new Error('protobuf: truncated varint');
      const b = bytes[at++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < bytes.length) {
    const key = varint();
    const number = Number(key >> 3n);
    const wire = Number(key & 7n);
    let f: Field;
    if (wire === 0) f = { wire: 0, value: varint() };
    else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      f = { wire, value: bytes.subarray(at, at + n) };
      at += n;
    } else if (wire === 2) {
      const n = Number(varint());
      f = { wire: 2, value: bytes.subarray(at, at + n) };
      at += n;
    } else throw new Error(`protobuf: unsupported wire type ${wire}`);
    if (at > bytes.length) throw new Error('protobuf: truncated field');
    const list = map.get(number) ?? [];
    list.push(f);
    map.set(number, list);
  }
  return map;
}

function one(m: Map<number, Field[]>, n: number): Field | undefined {
  const list = m.get(n);
  return list === undefined ? undefined : list[list.length - 1];
}
function asBytes(f: Field | undefined): Uint8Array | undefined {
  return f !== undefined && f.wire === 2 ? f.value : undefined;
}
function asString(f: Field | undefined): string | undefined {
  const b = asBytes(f);
  return b === undefined ? undefined : new TextDecoder().decode(b);
}
function asInt(f: Field | undefined): number | undefined {
  return f !== undefined && f.wire === 0 ? Number(BigInt.asIntN(64, f.value)) : undefined;
}
function asDouble(f: Field | undefined): number | undefined {
  if (f === undefined || f.wire !== 1) return undefined;
  return new DataView(f.value.buffer, f.value.byteOffset, 8).getFloat64(0, true);
}
function asFloat(f: Field | undefined): number | undefined {
  if (f === undefined || f.wire !== 5) return undefined;
  return new DataView(f.value.buffer, f.value.byteOffset, 4).getFloat32(0, true);
}
function packed(m: Map<number, Field[]>, n: number, width: 4 | 8): number[] {
  const out: number[] = [];
  for (const f of m.get(n) ?? []) {
    if (f.wire === 2) {
      const v = new DataView(f.value.buffer, f.value.byteOffset, f.value.byteLength);
      for (let i = 0; i < f.value.byteLength; i += width)
        out.push(width === 8 ? v.getFloat64(i, true) : v.getFloat32(i, true));
    } else if (f.wire === 1 || f.wire === 5) {
      out.push((width === 8 ? asDouble(f) : asFloat(f))!);
    }
  }
  return out;
}

// -------------------------------------------------------------- messages

export interface ReadHistogram {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}
export interface ReadImage {
  height: number;
  width: number;
  colorspace: number;
  encoded: Uint8Array;
}
export interface ReadTensor {
  dtype: number;
  shape: number[];
  stringVal: string[];
  floatVal: number[];
}
export interface ReadValue {
  tag: string;
  simpleValue?: number;
  image?: ReadImage;
  histo?: ReadHistogram;
  tensor?: ReadTensor;
  pluginName?: string;
  pluginContent?: Uint8Array;
}
export interface ReadEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: ReadValue[];
}

function decodeValue(bytes: Uint8Array): ReadValue {
  const m = fields(bytes);
  const v: ReadValue = { tag: asString(one(m, 1)) ?? '' };
  const simple = asFloat(one(m, 2));
  if (simple !== undefined) v.simpleValue = simple;
  const img = asBytes(one(m, 4));
  if (img !== undefined) {
    const i = fields(img);
    v.image = {
      height: asInt(one(i, 1)) ?? 0,
      width: asInt(one(i, 2)) ?? 0,
      colorspace: asInt(one(i, 3)) ?? 0,
      encoded: asBytes(one(i, 4)) ?? new Uint8Array(),
    };
  }
  const histo = asBytes(one(m, 5));
  if (histo !== undefined) {
    const h = fields(histo);
    v.histo = {
      min: asDouble(one(h, 1)) ?? 0,
      max: asDouble(one(h, 2)) ?? 0,
      num: asDouble(one(h, 3)) ?? 0,
      sum: asDouble(one(h, 4)) ?? 0,
      sumSquares: asDouble(one(h, 5)) ?? 0,
      bucketLimit: packed(h, 6, 8),
      bucket: packed(h, 7, 8),
    };
  }
  const tensor = asBytes(one(m, 8));
  if (tensor !== undefined) {
    const t = fields(tensor);
    const shapeMsg = asBytes(one(t, 2));
    const shape =
      shapeMsg === undefined
        ? []
        : (fields(shapeMsg).get(2) ?? []).map((d) => asInt(one(fields((d as { value: Uint8Array }).value), 1)) ?? 0);
    v.tensor = {
      dtype: asInt(one(t, 1)) ?? 0,
      shape,
      stringVal: (t.get(8) ?? []).map((f) => asString(f) ?? ''),
      floatVal: packed(t, 5, 4),
    };
  }
  const meta = asBytes(one(m, 9));
  if (meta !== undefined) {
    const plugin = asBytes(one(fields(meta), 1));
    if (plugin !== undefined) {
      const p = fields(plugin);
      v.pluginName = asString(one(p, 1)) ?? '';
      v.pluginContent = asBytes(one(p, 2)) ?? new Uint8Array();
    }
  }
  return v;
}

/** Decodes one Event message. */
export function decodeEvent(bytes: Uint8Array): ReadEvent {
  const m = fields(bytes);
  const e: ReadEvent = { wallTime: asDouble(one(m, 1)) ?? 0, step: asInt(one(m, 2)) ?? 0, values: [] };
  const version = asString(one(m, 3));
  if (version !== undefined) e.fileVersion = version;
  const summary = asBytes(one(m, 5));
  if (summary !== undefined)
    e.values = (fields(summary).get(1) ?? []).map((f) => decodeValue((f as { value: Uint8Array }).value));
  return e;
}

/** Every event of one file, CRCs checked. */
export async function readEventFile(path: string): Promise<ReadEvent[]> {
  const b = await readFile(path);
  return readRecords(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).map(decodeEvent);
}

/** The event files of a folder (not recursive), by name. */
export async function eventFiles(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((n) => n.includes('tfevents'))
    .sort()
    .map((n) => join(dir, n));
}

/** Every event of every event file in `dir`, in file-name order. */
export async function readRun(dir: string): Promise<ReadEvent[]> {
  const out: ReadEvent[] = [];
  for (const f of await eventFiles(dir)) out.push(...(await readEventFile(f)));
  return out;
}

/** `[step, value]` pairs of the scalar `tag`. */
export function scalars(events: readonly ReadEvent[], tag: string): [number, number][] {
  const out: [number, number][] = [];
  for (const e of events)
    for (const v of e.values) if (v.tag === tag && v.simpleValue !== undefined) out.push([e.step, v.simpleValue]);
  return out;
}

/** HParamsPluginData: which of experiment (2) / session_start_info (3) / session_end_info (4) it holds, decoded. */
export function decodeHParamsPluginData(content: Uint8Array): {
  kind: 'experiment' | 'sessionStart' | 'sessionEnd' | 'none';
  hparamInfos: { name: string; type: number }[];
  metricTags: string[];
  hparams: Record<string, number | string | boolean>;
  status: number;
} {
  const m = fields(content);
  const result = {
    kind: 'none' as 'experiment' | 'sessionStart' | 'sessionEnd' | 'none',
    hparamInfos: [] as { name: string; type: number }[],
    metricTags: [] as string[],
    hparams: {} as Record<string, number | string | boolean>,
    status: 0,
  };
  const exp = asBytes(one(m, 2));
  const start = asBytes(one(m, 3));
  const end = asBytes(one(m, 4));
  if (exp !== undefined) {
    result.kind = 'experiment';
    const e = fields(exp);
    for (const f of e.get(4) ?? []) {
      const h = fields((f as { value: Uint8Array }).value);
      result.hparamInfos.push({ name: asString(one(h, 1)) ?? '', type: asInt(one(h, 4)) ?? 0 });
    }
    for (const f of e.get(5) ?? []) {
      const name = asBytes(one(fields((f as { value: Uint8Array }).value), 1));
      result.metricTags.push(name === undefined ? '' : (asString(one(fields(name), 2)) ?? ''));
    }
  } else if (start !== undefined) {
    result.kind = 'sessionStart';
    for (const f of fields(start).get(1) ?? []) {
      const entry = fields((f as { value: Uint8Array }).value);
      const key = asString(one(entry, 1)) ?? '';
      const value = fields(asBytes(one(entry, 2)) ?? new Uint8Array());
      const num = asDouble(one(value, 2));
      const str = asString(one(value, 3));
      const bool = asInt(one(value, 4));
      result.hparams[key] = num ?? str ?? (bool === undefined ? Number.NaN : bool === 1);
    }
  } else if (end !== undefined) {
    result.kind = 'sessionEnd';
    result.status = asInt(one(fields(end), 1)) ?? 0;
  }
  return result;
}

// -------------------------------------------------------------------- PNG

/** Decodes an 8-bit, non-interlaced PNG (every filter type), checking chunk CRCs. */
export async function decodePng(
  png: Uint8Array,
): Promise<{ width: number; height: number; channels: number; data: Uint8Array }> {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!sig.every((b, i) => png[i] === b)) throw new Error('png: bad signature');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  let sawEnd = false;
  while (at < png.length) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const body = png.subarray(at + 8, at + 8 + len);
    if (view.getUint32(at + 8 + len) !== slowCrc32(png.subarray(at + 4, at + 8 + len)))
      throw new Error(`png: bad CRC in ${type}`);
    if (type === 'IHDR') {
      const h = new DataView(body.buffer, body.byteOffset, body.byteLength);
      width = h.getUint32(0);
      height = h.getUint32(4);
      if (body[8] !== 8 || body[12] !== 0) throw new Error('png: only 8-bit non-interlaced');
      channels = ({ 0: 1, 4: 2, 2: 3, 6: 4 } as Record<number, number>)[body[9]!] ?? 0;
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') sawEnd = true;
    at += 12 + len;
  }
  if (!sawEnd) throw new Error('png: no IEND');
  const joined = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of idat) {
    joined.set(c, o);
    o += c.length;
  }
  const raw = new Uint8Array(
    await new Response(new Blob([joined]).stream().pipeThrough(new DecompressionStream('deflate'))).arrayBuffer(),
  );
  const stride = width * channels;
  if (raw.length !== (stride + 1) * height)
    throw new Error(`png: inflated ${raw.length} bytes, expected ${(stride + 1) * height}`);
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const r = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= channels ? out[y * stride + x - channels]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels]! : 0;
      let p = 0;
      if (filter === 1) p = a;
      else if (filter === 2) p = b;
      else if (filter === 3) p = (a + b) >> 1;
      else if (filter === 4) {
        const pa = Math.abs(b - c),
          pb = Math.abs(a - c),
          pc = Math.abs(a + b - 2 * c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`png: bad filter ${filter}`);
      out[y * stride + x] = (r + p) & 0xff;
    }
  }
  return { width, height, channels, data: out };
}
