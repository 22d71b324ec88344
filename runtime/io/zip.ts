/**
 * @module io/zip — zip archives as torch.save writes and reads them.
 *
 * The writer stores entries uncompressed (method 0, STORED) and pads each
 * local header's extra field so the entry's data starts on a 64-byte boundary,
 * as PyTorch's `PyTorchStreamWriter` does (an extra field with id "FB" filled
 * with 'Z'), so torch can map storages straight out of the file. ZIP64
 * records are written when a size, an offset or the entry count needs them.
 *
 * The reader takes STORED and DEFLATE entries (DEFLATE through the Web-standard
 * `DecompressionStream('deflate-raw')`), ZIP64, and checks each entry's CRC-32.
 * Anything else (encryption, other methods, multi-disk archives, truncation)
 * is a {@link FormatError}. The reader takes any `ArrayBufferView` or `ArrayBuffer` and
 * reads only inside it; DEFLATE data is inflated incrementally and stops at the entry's
 * declared size, and declared sizes are bounded by `maxBytes` before inflating.
 */
import { DEFAULT_LIMITS, checkLimit, limitOf, toBytes, type BytesInput, type ReadLimits } from './bytes.ts';
import { crc32 } from './crc32.ts';
import { FormatError } from './errors.ts';
import { pipeCapped } from './gzip.ts';

/** One file to put into an archive. */
export interface ZipWriteEntry {
  /** The path inside the archive, `/`-separated, e.g. `archive/data.pkl`. */
  readonly name: string;
  readonly data: Uint8Array;
}

/** Options of {@link writeZip}. */
export interface WriteZipOptions {
  /** Align each entry's data to this many bytes from the archive start (default 64, as torch). 1 turns padding off. */
  readonly align?: number;
  /** `'auto'` (default) writes ZIP64 records only where a field overflows; `'always'` writes them for every entry (tests use it). */
  readonly zip64?: 'auto' | 'always';
}

/** Options of {@link readZipEntry} and {@link readZip}. */
export type ReadZipOptions = Pick<ReadLimits, 'maxBytes'>;

/** One entry of an archive's central directory, as {@link listZip} finds it. */
export interface ZipEntry {
  readonly name: string;
  /** 0 (STORED) or 8 (DEFLATE). */
  readonly method: number;
  /** The CRC-32 of the uncompressed data, from the central directory. */
  readonly crc32: number;
  readonly compressedSize: number;
  /** The uncompressed size. */
  readonly size: number;
  /** Where the (compressed) data starts in the archive. */
  readonly dataOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;
// Bit 11: names are UTF-8.
const FLAG_UTF8 = 0x0800;
// 1980-01-01 00:00, the earliest DOS date, so output is deterministic.
const DOS_DATE = 0x0021;
const EXTRA_ZIP64 = 0x0001;
// "FB", the extra field id PyTorchStreamWriter pads with.
const EXTRA_PAD = 0x4246;

const utf8 = new TextEncoder();

function setU64(v: DataView, at: number, value: number): void {
  v.setBigUint64(at, BigInt(value), true);
}

/**
 * An archive holding `entries` in order, STORED, with each entry's data aligned as torch aligns it.
 * @example
 * const zip = writeZip([{ name: 'archive/version', data: new TextEncoder().encode('3\n') }]);
 */
export function writeZip(entries: Iterable<ZipWriteEntry>, options: WriteZipOptions = {}): Uint8Array {
  const align = options.align ?? 64;
  if (!Number.isInteger(align) || align < 1) {
    throw new FormatError(`zip: invalid alignment; expected a positive integer, got ${align}`);
  }
  const always = options.zip64 === 'always';
  interface Planned {
    name: Uint8Array;
    data: Uint8Array;
    crc: number;
    offset: number;
    zip64: boolean;
    pad: number;
  }
  const planned: Planned[] = [];
  const seen = new Set<string>();
  let at = 0;
  for (const e of entries) {
    if (seen.has(e.name))
      throw new FormatError(`zip: duplicate entry name; expected unique names, got '${e.name}' twice`);
    seen.add(e.name);
    const name = utf8.encode(e.name);
    if (name.length > MAX16)
      throw new FormatError(`zip: entry name too long; expected at most 65535 bytes, got ${name.length}`);
    const zip64 = always || e.data.length >= MAX32 || at >= MAX32;
    // As PyTorchStreamWriter::getPadding: the "FB" field's 4-byte header always
    // comes, followed by enough 'Z's to bring the data to the boundary.
    const start = at + 30 + name.length + (zip64 ? 20 : 0) + 4;
    const pad = (align - (start % align)) % align;
    planned.push({ name, data: e.data, crc: crc32(e.data), offset: at, zip64, pad });
    at = start + pad + e.data.length;
  }
  const cdOffset = at;
  let cdSize = 0;
  for (const p of planned) {
    const needs =
      (always ? 3 : 0) + (!always && p.data.length >= MAX32 ? 2 : 0) + (!always && p.offset >= MAX32 ? 1 : 0);
    cdSize += 46 + p.name.length + (needs > 0 ? 4 + 8 * needs : 0);
  }
  const eocd64 =
    always || planned.length >= MAX16 || cdOffset >= MAX32 || cdSize >= MAX32 || planned.some((p) => p.zip64);
  const total = cdOffset + cdSize + (eocd64 ? 56 + 20 : 0) + 22;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);

  for (const p of planned) {
    let o = p.offset;
    const extraLen = (p.zip64 ? 20 : 0) + 4 + p.pad;
    v.setUint32(o, SIG_LOCAL, true);
    v.setUint16(o + 4, p.zip64 ? 45 : 20, true);
    v.setUint16(o + 6, FLAG_UTF8, true);
    v.setUint16(o + 8, 0, true);
    v.setUint16(o + 10, 0, true);
    v.setUint16(o + 12, DOS_DATE, true);
    v.setUint32(o + 14, p.crc, true);
    v.setUint32(o + 18, p.zip64 ? MAX32 : p.data.length, true);
    v.setUint32(o + 22, p.zip64 ? MAX32 : p.data.length, true);
    v.setUint16(o + 26, p.name.length, true);
    v.setUint16(o + 28, extraLen, true);
    out.set(p.name, o + 30);
    o += 30 + p.name.length;
    if (p.zip64) {
      v.setUint16(o, EXTRA_ZIP64, true);
      v.setUint16(o + 2, 16, true);
      setU64(v, o + 4, p.data.length);
      setU64(v, o + 12, p.data.length);
      o += 20;
    }
    v.setUint16(o, EXTRA_PAD, true);
    v.setUint16(o + 2, p.pad, true);
    out.fill(0x5a, o + 4, o + 4 + p.pad);
    o += 4 + p.pad;
    out.set(p.data, o);
  }

  let o = cdOffset;
  for (const p of planned) {
    const bigSize = always || p.data.length >= MAX32;
    const bigOffset = always || p.offset >= MAX32;
    const fields = (bigSize ? 2 : 0) + (bigOffset ? 1 : 0);
    const extraLen = fields > 0 ? 4 + 8 * fields : 0;
    v.setUint32(o, SIG_CENTRAL, true);
    v.setUint16(o + 4, 45, true);
    v.setUint16(o + 6, fields > 0 ? 45 : 20, true);
    v.setUint16(o + 8, FLAG_UTF8, true);
    v.setUint16(o + 10, 0, true);
    v.setUint16(o + 12, 0, true);
    v.setUint16(o + 14, DOS_DATE, true);
    v.setUint32(o + 16, p.crc, true);
    v.setUint32(o + 20, bigSize ? MAX32 : p.data.length, true);
    v.setUint32(o + 24, bigSize ? MAX32 : p.data.length, true);
    v.setUint16(o + 28, p.name.length, true);
    v.setUint16(o + 30, extraLen, true);
    // comment length, disk, internal and external attributes stay 0.
    v.setUint32(o + 42, bigOffset ? MAX32 : p.offset, true);
    out.set(p.name, o + 46);
    o += 46 + p.name.length;
    if (fields > 0) {
      v.setUint16(o, EXTRA_ZIP64, true);
      v.setUint16(o + 2, 8 * fields, true);
      let f = o + 4;
      if (bigSize) {
        setU64(v, f, p.data.length);
        setU64(v, f + 8, p.data.length);
        f += 16;
      }
      if (bigOffset) setU64(v, f, p.offset);
      o += extraLen;
    }
  }

  if (eocd64) {
    const e64 = o;
    v.setUint32(o, SIG_EOCD64, true);
    setU64(v, o + 4, 44);
    v.setUint16(o + 12, 45, true);
    v.setUint16(o + 14, 45, true);
    // disk numbers (o + 16, o + 20) stay 0.
    setU64(v, o + 24, planned.length);
    setU64(v, o + 32, planned.length);
    setU64(v, o + 40, cdSize);
    setU64(v, o + 48, cdOffset);
    o += 56;
    v.setUint32(o, SIG_LOCATOR64, true);
    setU64(v, o + 8, e64);
    v.setUint32(o + 16, 1, true);
    o += 20;
  }
  v.setUint32(o, SIG_EOCD, true);
  const count = always || planned.length >= MAX16 ? MAX16 : planned.length;
  v.setUint16(o + 8, count, true);
  v.setUint16(o + 10, count, true);
  v.setUint32(o + 12, always || cdSize >= MAX32 ? MAX32 : cdSize, true);
  v.setUint32(o + 16, always || cdOffset >= MAX32 ? MAX32 : cdOffset, true);
  return out;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(v: DataView, at: number, what: string): number {
  const x = v.getBigUint64(at, true);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FormatError(`zip: ${what} too large; expected at most 2^53 - 1, got ${x}`);
  }
  return Number(x);
}

function need(bytes: Uint8Array, start: number, length: number, what: string): void {
  if (start < 0 || start + length > bytes.length) {
    throw new FormatError(
      `zip: truncated ${what}; expected ${length} bytes at offset ${start}, got an archive of ${bytes.length} bytes`,
    );
  }
}

/**
 * The entries of an archive, from its central directory (ZIP64 included); reads no data.
 * @example listZip(bytes).map((e) => e.name) // ['archive/data.pkl', 'archive/data/0', ...]
 */
export function listZip(input: BytesInput): ZipEntry[] {
  const bytes = toBytes(input, 'zip');
  const v = view(bytes);
  const n = bytes.length;
  // The end-of-central-directory record is 22 bytes plus a comment of up to 65535.
  let eocd = -1;
  for (let i = n - 22; i >= Math.max(0, n - 22 - MAX16); i--) {
    if (v.getUint32(i, true) === SIG_EOCD && i + 22 + v.getUint16(i + 20, true) <= n) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new FormatError(
      `zip: central directory not found; expected an end-of-central-directory record, got none in ${n} bytes`,
    );
  }
  if (v.getUint16(eocd + 4, true) !== 0 || v.getUint16(eocd + 6, true) !== 0) {
    throw new FormatError(
      `zip: multi-disk archive; expected a single-disk archive, got disk ${v.getUint16(eocd + 4, true)}`,
    );
  }
  let count = v.getUint16(eocd + 10, true);
  let cdSize = v.getUint32(eocd + 12, true);
  let cdOffset = v.getUint32(eocd + 16, true);
  const loc = eocd - 20;
  if (loc >= 0 && v.getUint32(loc, true) === SIG_LOCATOR64) {
    const e64 = u64(v, loc + 8, 'ZIP64 end-of-central-directory offset');
    need(bytes, e64, 56, 'ZIP64 end-of-central-directory record');
    if (v.getUint32(e64, true) !== SIG_EOCD64) {
      throw new FormatError(
        `zip: bad ZIP64 end-of-central-directory record; expected signature 0x06064b50 at offset ${e64}, got 0x${v.getUint32(e64, true).toString(16)}`,
      );
    }
    count = u64(v, e64 + 32, 'entry count');
    cdSize = u64(v, e64 + 40, 'central directory size');
    cdOffset = u64(v, e64 + 48, 'central directory offset');
  } else if (count === MAX16 || cdSize === MAX32 || cdOffset === MAX32) {
    throw new FormatError(
      'zip: ZIP64 locator missing; expected a ZIP64 end-of-central-directory locator before the end record, got none',
    );
  }
  need(bytes, cdOffset, cdSize, 'central directory');
  if (count * 46 > cdSize) {
    throw new FormatError(
      `zip: entry count does not fit the central directory; expected at most ${Math.floor(cdSize / 46)} entries in ${cdSize} bytes, got ${count}`,
    );
  }
  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let o = cdOffset;
  for (let k = 0; k < count; k++) {
    need(bytes, o, 46, `central directory entry ${k}`);
    if (v.getUint32(o, true) !== SIG_CENTRAL) {
      throw new FormatError(
        `zip: bad central directory entry ${k}; expected signature 0x02014b50 at offset ${o}, got 0x${v.getUint32(o, true).toString(16)}`,
      );
    }
    const flags = v.getUint16(o + 8, true);
    const method = v.getUint16(o + 10, true);
    const crc = v.getUint32(o + 16, true);
    let compressedSize = v.getUint32(o + 20, true);
    let size = v.getUint32(o + 24, true);
    const nameLen = v.getUint16(o + 28, true);
    const extraLen = v.getUint16(o + 30, true);
    const commentLen = v.getUint16(o + 32, true);
    let localOffset = v.getUint32(o + 42, true);
    need(bytes, o + 46, nameLen + extraLen + commentLen, `central directory entry ${k}`);
    const name = decoder.decode(bytes.subarray(o + 46, o + 46 + nameLen));
    // ZIP64 extended information: the 64-bit values of the fields set to 0xffffffff, in this order.
    let x = o + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = v.getUint16(x, true);
      const len = v.getUint16(x + 2, true);
      if (id === EXTRA_ZIP64) {
        let f = x + 4;
        const take = (what: string): number => {
          if (f + 8 > x + 4 + len)
            throw new FormatError(
              `zip: short ZIP64 extra field in '${name}'; expected the 64-bit ${what}, got ${len} bytes`,
            );
          const value = u64(v, f, what);
          f += 8;
          return value;
        };
        if (size === MAX32) size = take('size');
        if (compressedSize === MAX32) compressedSize = take('compressed size');
        if (localOffset === MAX32) localOffset = take('local header offset');
      }
      x += 4 + len;
    }
    if ((flags & 1) !== 0)
      throw new FormatError(`zip: encrypted entry '${name}'; expected an unencrypted archive, got encryption flag set`);
    if (method !== 0 && method !== 8) {
      throw new FormatError(
        `zip: unsupported compression method in '${name}'; expected 0 (STORED) or 8 (DEFLATE), got ${method}`,
      );
    }
    if (method === 0 && compressedSize !== size) {
      throw new FormatError(
        `zip: inconsistent sizes in STORED entry '${name}'; expected equal sizes, got ${compressedSize} stored and ${size} uncompressed`,
      );
    }
    if (names.has(name)) throw new FormatError(`zip: duplicate entry '${name}'; expected unique names, got it twice`);
    names.add(name);
    need(bytes, localOffset, 30, `local header of '${name}'`);
    if (v.getUint32(localOffset, true) !== SIG_LOCAL) {
      throw new FormatError(
        `zip: bad local header of '${name}'; expected signature 0x04034b50 at offset ${localOffset}, got 0x${v.getUint32(localOffset, true).toString(16)}`,
      );
    }
    const dataOffset = localOffset + 30 + v.getUint16(localOffset + 26, true) + v.getUint16(localOffset + 28, true);
    need(bytes, dataOffset, compressedSize, `data of '${name}'`);
    entries.push({ name, method, crc32: crc, compressedSize, size, dataOffset });
    o += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/**
 * The uncompressed data of one entry, CRC-checked. STORED data is a view into `bytes` (no copy).
 * DEFLATE data may inflate to at most the entry's declared size, which may be at most
 * `options.maxBytes` (default: the larger of 256 MiB and 16 times the archive's length).
 * @example const pkl = await readZipEntry(bytes, listZip(bytes)[0]!);
 */
export async function readZipEntry(
  input: BytesInput,
  entry: ZipEntry,
  options: ReadZipOptions = {},
): Promise<Uint8Array> {
  const bytes = toBytes(input, 'zip');
  need(bytes, entry.dataOffset, entry.compressedSize, `data of '${entry.name}'`);
  const raw = bytes.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
  let data: Uint8Array | undefined = raw;
  if (entry.method === 8) {
    const max = limitOf('zip', 'maxBytes', options.maxBytes, DEFAULT_LIMITS.maxBytes(bytes.length));
    checkLimit('zip', `declared size of '${entry.name}'`, 'maxBytes', max, entry.size, 'bytes');
    try {
      data = await pipeCapped(raw, new DecompressionStream('deflate-raw'), entry.size);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new FormatError(
        `zip: corrupt DEFLATE data in '${entry.name}'; expected a complete deflate stream, got an error (${reason})`,
        { cause: error },
      );
    }
    if (data === undefined) {
      throw new FormatError(
        `zip: wrong size of '${entry.name}'; expected ${entry.size} bytes, got more (inflation stopped there)`,
      );
    }
  }
  if (data.length !== entry.size) {
    throw new FormatError(`zip: wrong size of '${entry.name}'; expected ${entry.size} bytes, got ${data.length}`);
  }
  const crc = crc32(data);
  if (crc !== entry.crc32) {
    const hex = (x: number): string => `0x${x.toString(16).padStart(8, '0')}`;
    throw new FormatError(`zip: CRC-32 mismatch in '${entry.name}'; expected ${hex(entry.crc32)}, got ${hex(crc)}`);
  }
  return data;
}

/**
 * Every entry of an archive, by name, CRC-checked. The declared sizes of its DEFLATE
 * entries together may be at most `options.maxBytes` (see {@link readZipEntry}).
 * @example const files = await readZip(bytes); files.get('archive/version') // Uint8Array '3\n'
 */
export async function readZip(input: BytesInput, options: ReadZipOptions = {}): Promise<Map<string, Uint8Array>> {
  const bytes = toBytes(input, 'zip');
  const entries = listZip(bytes);
  const max = limitOf('zip', 'maxBytes', options.maxBytes, DEFAULT_LIMITS.maxBytes(bytes.length));
  let inflated = 0;
  for (const e of entries) if (e.method === 8) inflated += e.size;
  checkLimit('zip', 'the declared sizes of the DEFLATE entries', 'maxBytes', max, inflated, 'bytes');
  const out = new Map<string, Uint8Array>();
  for (const e of entries) out.set(e.name, await readZipEntry(bytes, e, { maxBytes: max }));
  return out;
}
