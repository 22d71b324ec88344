/**
 * @module io/idx.test — the IDX reader and the gzip helpers: round trips of every
 * element type, and each kind of broken input raising a FormatError with a clear message.
 */
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../runtime/io/errors.ts';
import { gunzip, gzip, isGzip } from '../../runtime/io/gzip.ts';
import { encodeIdx, parseIdx, type IdxData } from '../../runtime/io/idx.ts';
import { LightningError } from '../../runtime/errors.ts';

function expectFormatError(fn: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FormatError);
  expect(caught).toBeInstanceOf(LightningError);
  expect((caught as Error).message).toMatch(message);
}

async function expectFormatErrorAsync(p: Promise<unknown>, message: RegExp): Promise<void> {
  const caught = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(caught).toBeInstanceOf(FormatError);
  expect((caught as Error).message).toMatch(message);
}

describe('idx', () => {
  it('idx: parses a hand-written big-endian uint8 file', () => {
    const bytes = new Uint8Array([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255]);
    const { dtype, shape, data } = parseIdx(bytes);
    expect(dtype).toBe('uint8');
    expect(shape).toEqual([2, 3]);
    expect(Array.from(data)).toEqual([1, 2, 3, 4, 5, 255]);
  });

  it('idx: reads multi-byte elements as big-endian', () => {
    // int32 0x01020304 and int16 -2 written big-endian by hand.
    expect(Array.from(parseIdx(new Uint8Array([0, 0, 0x0c, 1, 0, 0, 0, 1, 1, 2, 3, 4])).data)).toEqual([0x01020304]);
    expect(Array.from(parseIdx(new Uint8Array([0, 0, 0x0b, 1, 0, 0, 0, 1, 0xff, 0xfe])).data)).toEqual([-2]);
  });

  const cases: IdxData[] = [
    { dtype: 'uint8', shape: [2, 2, 3], data: Uint8Array.from({ length: 12 }, (_, i) => i * 20) },
    { dtype: 'int8', shape: [4], data: new Int8Array([-128, -1, 0, 127]) },
    { dtype: 'int16', shape: [2, 2], data: new Int16Array([-32768, -1, 258, 32767]) },
    { dtype: 'int32', shape: [3], data: new Int32Array([-2147483648, 16909060, 2147483647]) },
    { dtype: 'float32', shape: [1, 3], data: new Float32Array([1.5, -0.1, 3.4e38]) },
    { dtype: 'float64', shape: [2], data: new Float64Array([Math.PI, -1e-300]) },
    { dtype: 'uint8', shape: [0, 28, 28], data: new Uint8Array(0) },
  ];
  for (const c of cases) {
    it(`idx: round-trips ${c.dtype} ${JSON.stringify(c.shape)}`, () => {
      const back = parseIdx(encodeIdx(c));
      expect(back.dtype).toBe(c.dtype);
      expect(back.shape).toEqual(c.shape);
      expect(back.data.constructor).toBe(c.data.constructor);
      expect(Array.from(back.data)).toEqual(Array.from(c.data));
    });
  }

  it('idx: parses a view into a larger buffer (non-zero byteOffset)', () => {
    const file = encodeIdx({ dtype: 'int32', shape: [2], data: new Int32Array([7, -7]) });
    const padded = new Uint8Array(file.length + 3);
    padded.set(file, 3);
    expect(Array.from(parseIdx(padded.subarray(3)).data)).toEqual([7, -7]);
  });

  it('idx: rejects a bad magic number', () => {
    expectFormatError(
      () => parseIdx(new Uint8Array([0x1f, 0x8b, 8, 1, 0, 0, 0, 0])),
      /^idx: bad magic number; expected 0x00 0x00 <type> <ndim>, got 0x1f 0x8b 0x08 0x01$/,
    );
  });

  it('idx: rejects an unknown type code', () => {
    expectFormatError(
      () => parseIdx(new Uint8Array([0, 0, 0x0a, 1, 0, 0, 0, 0])),
      /^idx: unknown data type code; expected one of 0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, got 0x0a$/,
    );
  });

  it('idx: rejects a truncated header', () => {
    expectFormatError(
      () => parseIdx(new Uint8Array([0, 0, 8])),
      /^idx: truncated header; expected at least 4 bytes .*, got 3$/,
    );
    expectFormatError(
      () => parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1, 0, 0])),
      /^idx: truncated header; expected 16 bytes for 3 dimensions, got 10$/,
    );
  });

  it('idx: rejects truncated data, naming the file', () => {
    const file = encodeIdx({ dtype: 'uint8', shape: [2, 28, 28], data: new Uint8Array(2 * 784) });
    expectFormatError(
      () => parseIdx(file.subarray(0, file.length - 100), 'raw/train-images-idx3-ubyte'),
      /^raw\/train-images-idx3-ubyte: truncated data; expected 1568 bytes for shape \[2,28,28\] uint8, got 1468$/,
    );
    const f32 = encodeIdx({ dtype: 'float32', shape: [3], data: new Float32Array(3) });
    expectFormatError(
      () => parseIdx(f32.subarray(0, f32.length - 1)),
      /expected 12 bytes for shape \[3\] float32, got 11$/,
    );
  });

  it('idx: rejects trailing bytes', () => {
    const file = encodeIdx({ dtype: 'uint8', shape: [4], data: new Uint8Array(4) });
    const longer = new Uint8Array(file.length + 2);
    longer.set(file);
    expectFormatError(
      () => parseIdx(longer),
      /^idx: trailing bytes after the data; expected 4 bytes for shape \[4\] uint8, got 6$/,
    );
  });

  it('idx: encodeIdx rejects data that does not fit the shape', () => {
    expectFormatError(
      () => encodeIdx({ dtype: 'uint8', shape: [2, 2], data: new Uint8Array(3) }),
      /^idx: data length does not match the shape; expected 4 elements for \[2,2\], got 3$/,
    );
  });
});

describe('gzip', () => {
  it('gzip: round-trips through CompressionStream and DecompressionStream', async () => {
    const raw = encodeIdx({
      dtype: 'uint8',
      shape: [100, 28, 28],
      data: Uint8Array.from({ length: 78400 }, (_, i) => (i * 7) & 0xff),
    });
    const gz = await gzip(raw);
    expect(isGzip(gz)).toBe(true);
    expect(isGzip(raw)).toBe(false);
    expect(gz.length).toBeLessThan(raw.length);
    const back = await gunzip(gz);
    expect(back).toEqual(raw);
    expect(parseIdx(back).shape).toEqual([100, 28, 28]);
  });

  it('gzip: rejects input without the gzip magic', async () => {
    await expectFormatErrorAsync(
      gunzip(new Uint8Array([0, 0, 8, 1]), 'a.gz'),
      /^a\.gz: not a gzip stream; expected magic 0x1f 0x8b, got 0x00 0x00$/,
    );
    await expectFormatErrorAsync(gunzip(new Uint8Array(0)), /got an empty file$/);
  });

  it('gzip: rejects a corrupt stream', async () => {
    const gz = await gzip(new TextEncoder().encode('hello hello hello hello'.repeat(50)));
    const bad = gz.slice();
    for (let i = 12; i < bad.length - 8; i++) bad[i] = bad[i]! ^ 0x5a;
    await expectFormatErrorAsync(
      gunzip(bad, 'x.gz'),
      /^x\.gz: corrupt gzip data; expected a complete gzip stream, got an error after \d+ compressed bytes/,
    );
  });

  it('gzip: rejects a truncated stream', async () => {
    const gz = await gzip(Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff));
    await expectFormatErrorAsync(gunzip(gz.subarray(0, Math.floor(gz.length / 2))), /^gzip: corrupt gzip data/);
  });

  it('gzip: rejects a stream whose CRC does not match', async () => {
    const gz = await gzip(new TextEncoder().encode('checksummed'));
    const bad = gz.slice();
    bad[bad.length - 6] = bad[bad.length - 6]! ^ 1; // inside the CRC-32 trailer
    await expectFormatErrorAsync(gunzip(bad), /^gzip: corrupt gzip data/);
  });
});
