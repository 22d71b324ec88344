/**
 * @module io/zip.test — the zip writer and reader: torch's 64-byte alignment, ZIP64,
 * DEFLATE and ZIP64 archives written by Python, Python reading ours, CRC-32, and
 * corrupt or truncated archives as FormatErrors.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../runtime/io/crc32.ts';
import { FormatError } from '../../runtime/io/errors.ts';
import { listZip, readZip, readZipEntry, writeZip } from '../../runtime/io/zip.ts';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../fixtures/io/${name}`, import.meta.url)));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const PYTHON = '/usr/bin/python3';

function formatError(fn: () => unknown): FormatError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FormatError);
  return caught as FormatError;
}

async function formatErrorAsync(p: Promise<unknown>): Promise<FormatError> {
  const caught = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(caught).toBeInstanceOf(FormatError);
  return caught as FormatError;
}

const entries = [
  { name: 'archive/data.pkl', data: text('pickle bytes') },
  { name: 'archive/data/0', data: Uint8Array.from({ length: 1000 }, (_, i) => i % 251) },
  { name: 'archive/empty', data: new Uint8Array(0) },
  { name: 'archive/ünïcødé', data: text('名前') },
];

describe('crc32', () => {
  it('crc32: matches the standard check value and continues across chunks', () => {
    const b = text('123456789');
    expect(crc32(b)).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(b.subarray(5), crc32(b.subarray(0, 5)))).toBe(0xcbf43926);
    // Odd lengths run the byte-wise tail after the 4-byte loop.
    expect(crc32(text('a'))).toBe(0xe8b7be43);
    expect(crc32(text('abcdefg'))).toBe(0x312a6aa6);
  });
});

describe('zip', () => {
  it('zip: round-trips entries in order, STORED, names in UTF-8', async () => {
    const bytes = writeZip(entries);
    const listed = listZip(bytes);
    expect(listed.map((e) => e.name)).toEqual(entries.map((e) => e.name));
    expect(listed.every((e) => e.method === 0)).toBe(true);
    const files = await readZip(bytes);
    for (const e of entries) expect(files.get(e.name)).toEqual(e.data);
  });

  it('zip: aligns every entry\'s data to 64 bytes with an "FB" extra field of Z padding, as torch does', () => {
    const bytes = writeZip(entries);
    const v = new DataView(bytes.buffer);
    let o = 0;
    for (const e of listZip(bytes)) {
      expect(e.dataOffset % 64).toBe(0);
      // Walk the local headers: each one's extra field holds the padding record.
      expect(v.getUint32(o, true)).toBe(0x04034b50);
      const nameLen = v.getUint16(o + 26, true);
      const extraLen = v.getUint16(o + 28, true);
      expect(o + 30 + nameLen + extraLen).toBe(e.dataOffset);
      const extra = bytes.subarray(o + 30 + nameLen, e.dataOffset);
      expect(String.fromCharCode(extra[0]!, extra[1]!)).toBe('FB');
      expect(extra.subarray(4).every((b) => b === 0x5a)).toBe(true);
      o = e.dataOffset + e.compressedSize;
    }
    const unaligned = writeZip(entries, { align: 1 });
    expect(unaligned.length).toBeLessThan(bytes.length);
  });

  it('zip: is deterministic (no timestamps from the clock)', () => {
    expect(writeZip(entries)).toEqual(writeZip(entries));
  });

  it('zip: writes and reads ZIP64 records when asked for them everywhere', async () => {
    const bytes = writeZip(entries, { zip64: 'always' });
    const v = new DataView(bytes.buffer);
    expect(v.getUint32(bytes.length - 22 - 20, true)).toBe(0x07064b50);
    expect(v.getUint32(bytes.length - 22 + 16, true)).toBe(0xffffffff);
    const listed = listZip(bytes);
    expect(listed.every((e) => e.dataOffset % 64 === 0)).toBe(true);
    const files = await readZip(bytes);
    for (const e of entries) expect(files.get(e.name)).toEqual(e.data);
  });

  it("zip: reads DEFLATE and ZIP64 archives written by Python's zipfile", async () => {
    const deflated = fixture('deflate.zip');
    const listed = listZip(deflated);
    expect(listed.map((e) => [e.name, e.method])).toEqual([
      ['a.txt', 8],
      ['dir/b.bin', 8],
      ['stored.txt', 0],
    ]);
    const files = await readZip(deflated);
    expect(new TextDecoder().decode(files.get('a.txt'))).toBe('hello deflate '.repeat(50));
    expect(files.get('dir/b.bin')).toEqual(Uint8Array.from({ length: 1024 }, (_, i) => i % 256));
    expect(new TextDecoder().decode(files.get('stored.txt'))).toBe('stored as is');

    const z64 = await readZip(fixture('zip64.zip'));
    expect(new TextDecoder().decode(z64.get('one.txt'))).toBe('first');
    expect(z64.get('two.bin')).toEqual(Uint8Array.from({ length: 100 }, (_, i) => i));
  });

  it('zip: reads an entry without copying when STORED', async () => {
    const bytes = writeZip(entries);
    const e = listZip(bytes)[1]!;
    const data = await readZipEntry(bytes, e);
    expect(data.buffer).toBe(bytes.buffer);
  });

  it.skipIf(!existsSync(PYTHON))("zip: Python's zipfile reads ours, plain and ZIP64, with CRCs checked", () => {
    const dir = mkdtempSync(join(tmpdir(), 'zip-test-'));
    try {
      for (const [file, bytes] of [
        ['plain.zip', writeZip(entries)],
        ['z64.zip', writeZip(entries, { zip64: 'always' })],
      ] as const) {
        writeFileSync(join(dir, file), bytes);
        const out = execFileSync(
          PYTHON,
          [
            '-c',
            [
              'import sys, zipfile, json',
              'z = zipfile.ZipFile(sys.argv[1])',
              'assert z.testzip() is None',
              'print(json.dumps({i.filename: [i.file_size, list(z.read(i.filename)[:3])] for i in z.infolist()}))',
            ].join('\n'),
            join(dir, file),
          ],
          { encoding: 'utf8' },
        );
        const got = JSON.parse(out) as Record<string, [number, number[]]>;
        for (const e of entries) expect(got[e.name]).toEqual([e.data.length, Array.from(e.data.subarray(0, 3))]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('zip: a file without an end record is a FormatError with the message from the spec', () => {
    expect(formatError(() => listZip(new Uint8Array(123))).message).toBe(
      'zip: central directory not found; expected an end-of-central-directory record, got none in 123 bytes',
    );
    expect(formatError(() => listZip(new Uint8Array(0))).message).toMatch(/got none in 0 bytes$/);
  });

  it('zip: every truncation of an archive is a FormatError', async () => {
    const bytes = writeZip(entries);
    for (let cut = 0; cut < bytes.length; cut += 7) {
      const part = bytes.subarray(0, cut);
      const caught = await (async () => {
        const files = listZip(part);
        for (const e of files) await readZipEntry(part, e);
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(caught, `cut at ${cut}`).toBeInstanceOf(FormatError);
    }
  });

  it('zip: a flipped data byte fails the CRC-32 check, naming the entry', async () => {
    const bytes = writeZip(entries);
    const e = listZip(bytes)[1]!;
    bytes[e.dataOffset + 10]! ^= 0xff;
    expect((await formatErrorAsync(readZipEntry(bytes, e))).message).toMatch(
      /^zip: CRC-32 mismatch in 'archive\/data\/0'; expected 0x[0-9a-f]{8}, got 0x[0-9a-f]{8}$/,
    );
  });

  it('zip: corrupt headers, unknown methods, encryption and a corrupt deflate stream are FormatErrors', async () => {
    const bytes = writeZip(entries);
    const v = new DataView(bytes.buffer);
    const eocd = bytes.length - 22;
    const cd = v.getUint32(eocd + 16, true);

    const badCentral = bytes.slice();
    badCentral[cd] = 0;
    expect(formatError(() => listZip(badCentral)).message).toMatch(
      /^zip: bad central directory entry 0; expected signature 0x02014b50 at offset \d+, got 0x/,
    );

    const badLocal = bytes.slice();
    badLocal[0] = 0;
    expect(formatError(() => listZip(badLocal)).message).toMatch(
      /^zip: bad local header of 'archive\/data\.pkl'; expected signature 0x04034b50 at offset 0/,
    );

    const method = bytes.slice();
    new DataView(method.buffer).setUint16(cd + 10, 12, true);
    expect(formatError(() => listZip(method)).message).toBe(
      "zip: unsupported compression method in 'archive/data.pkl'; expected 0 (STORED) or 8 (DEFLATE), got 12",
    );

    const encrypted = bytes.slice();
    new DataView(encrypted.buffer).setUint16(cd + 8, 1, true);
    expect(formatError(() => listZip(encrypted)).message).toMatch(/^zip: encrypted entry/);

    const pastEnd = bytes.slice();
    new DataView(pastEnd.buffer).setUint32(eocd + 16, bytes.length + 5, true);
    expect(formatError(() => listZip(pastEnd)).message).toMatch(
      /^zip: truncated central directory; expected \d+ bytes at offset \d+, got an archive of \d+ bytes$/,
    );

    const deflated = fixture('deflate.zip');
    const a = listZip(deflated)[0]!;
    const broken = deflated.slice();
    broken.fill(0xff, a.dataOffset, a.dataOffset + 8);
    expect((await formatErrorAsync(readZipEntry(broken, a))).message).toMatch(
      /^zip: (corrupt DEFLATE data in 'a\.txt'|wrong size of 'a\.txt'|CRC-32 mismatch in 'a\.txt')/,
    );
  });

  it('zip: rejects duplicate names when writing', () => {
    expect(() =>
      writeZip([
        { name: 'a', data: new Uint8Array(1) },
        { name: 'a', data: new Uint8Array(1) },
      ]),
    ).toThrow(/zip: duplicate entry name; expected unique names, got 'a' twice/);
  });
});
