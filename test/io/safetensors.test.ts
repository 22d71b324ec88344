/**
 * @module io/safetensors.test — safetensors: hand-built files per the spec (the Python
 * safetensors package is not installed here), round trips of every dtype, the writer's
 * layout (8-byte aligned header padded with spaces, wider dtypes first), and strict
 * validation of bad headers and offsets as FormatErrors.
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../runtime/backend.ts';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';
import { tensor, zeros, type Tensor } from '../../runtime/tensor/index.ts';
import { FormatError } from '../../runtime/io/errors.ts';
import { loadSafetensors, saveSafetensors } from '../../runtime/io/safetensors.ts';
import { int64, type Int64 } from '../../runtime/io/torch-ckpt.ts';

const backend: Backend = createReferenceBackend();

/** A file from a header object and raw data, as the spec lays it out (header padded with spaces to 8 bytes). */
function build(header: unknown, data: Uint8Array, options: { pad?: boolean; rawHeader?: string } = {}): Uint8Array {
  let json = options.rawHeader ?? JSON.stringify(header);
  if (options.pad !== false) while ((8 + new TextEncoder().encode(json).length) % 8 !== 0) json += ' ';
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

function formatError(fn: () => unknown): string {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FormatError);
  return (caught as Error).message;
}

describe('safetensors', () => {
  it('safetensors: reads a hand-built file of every supported dtype, with metadata', async () => {
    const f32 = bytes(new Float32Array([1.5, -2, 3, 4]));
    const i64 = bytes(new BigInt64Array([-3n, 2147483647n]));
    const f64 = bytes(new Float64Array([1e-300]));
    const i32 = bytes(new Int32Array([-7]));
    const f16 = new Uint8Array([0x00, 0x3c, 0x00, 0xc1]); // 1.0, -2.5
    const bf16 = new Uint8Array([0x80, 0x3f, 0x20, 0xc0]); // 1.0, -2.5
    const bool = new Uint8Array([1, 0, 1]);
    const i8 = new Uint8Array([0xff]);
    const u8 = new Uint8Array([0xff]);
    const i16 = bytes(new Int16Array([-300]));
    const parts: [string, string, number[], Uint8Array][] = [
      ['w', 'F32', [2, 2], f32],
      ['n', 'I64', [2], i64],
      ['d', 'F64', [], f64],
      ['i', 'I32', [1], i32],
      ['h', 'F16', [2], f16],
      ['bf', 'BF16', [2], bf16],
      ['m', 'BOOL', [3], bool],
      ['c', 'I8', [1], i8],
      ['u', 'U8', [1], u8],
      ['s', 'I16', [1], i16],
      ['e', 'F32', [0, 3], new Uint8Array(0)],
    ];
    const header: Record<string, unknown> = { __metadata__: { format: 'pt', note: 'ünï' } };
    let at = 0;
    for (const [name, dtype, shape, data] of parts) {
      header[name] = { dtype, shape, data_offsets: [at, at + data.length] };
      at += data.length;
    }
    const file = loadSafetensors(build(header, concat(...parts.map((p) => p[3]))), { backend });
    expect(file.metadata).toEqual({ format: 'pt', note: 'ünï' });
    const t = (k: string) => file.tensors.get(k)!;
    expect(await t('w').tolist()).toEqual([
      [1.5, -2],
      [3, 4],
    ]);
    expect(t('n').dtype).toBe('int32');
    expect(await t('n').tolist()).toEqual([-3, 2147483647]);
    expect(t('d').dtype).toBe('float64');
    expect(t('d').shape).toEqual([]);
    expect(await t('d').item()).toBe(1e-300);
    expect(await t('i').tolist()).toEqual([-7]);
    expect(await t('h').tolist()).toEqual([1, -2.5]);
    expect(await t('bf').tolist()).toEqual([1, -2.5]);
    expect(await t('m').tolist()).toEqual([true, false, true]);
    expect(await t('c').tolist()).toEqual([-1]);
    expect(await t('u').tolist()).toEqual([255]);
    expect(await t('s').tolist()).toEqual([-300]);
    expect(t('e').shape).toEqual([0, 3]);
  });

  it('safetensors: an unpadded header and a file without metadata read too', () => {
    const file = loadSafetensors(
      build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, bytes(new Float32Array([2])), { pad: false }),
      { backend },
    );
    expect(file.metadata).toBeNull();
    expect([...file.tensors.keys()]).toEqual(['a']);
  });

  it('safetensors: round-trips every dtype we hold, int64 markers and metadata', async () => {
    const saved = await saveSafetensors(
      new Map<string, Tensor | Int64>([
        [
          'b.weight',
          tensor(
            [
              [1, 2],
              [3, 4],
            ],
            { backend },
          ),
        ],
        ['a.bias', tensor([0.5], { dtype: 'float64', backend })],
        ['idx', tensor([1, -2], { dtype: 'int32', backend })],
        ['mask', tensor([true, false], { backend })],
        ['count', int64(7)],
        ['long', int64(tensor([5, 6], { dtype: 'int32', backend }))],
        ['empty', zeros([0], { backend })],
        [
          'view',
          tensor(
            [
              [1, 2],
              [3, 4],
            ],
            { backend },
          ).transpose(0, 1),
        ],
      ]),
      { format: 'pt' },
    );
    const { tensors, metadata } = loadSafetensors(saved, { backend });
    expect(metadata).toEqual({ format: 'pt' });
    expect(await tensors.get('b.weight')!.tolist()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(tensors.get('a.bias')!.dtype).toBe('float64');
    expect(await tensors.get('idx')!.tolist()).toEqual([1, -2]);
    expect(await tensors.get('mask')!.tolist()).toEqual([true, false]);
    expect(tensors.get('count')!.shape).toEqual([]);
    expect(await tensors.get('count')!.item()).toBe(7);
    expect(await tensors.get('long')!.tolist()).toEqual([5, 6]);
    expect(tensors.get('empty')!.shape).toEqual([0]);
    expect(await tensors.get('view')!.tolist()).toEqual([
      [1, 3],
      [2, 4],
    ]);
  });

  it('safetensors: the writer pads the header with spaces to 8 bytes and orders wider dtypes first, then names', async () => {
    const saved = await saveSafetensors({
      z: tensor([1], { backend }),
      a: tensor([1], { backend }),
      m: tensor([true], { backend }),
      l: int64(1),
      d: tensor([1], { dtype: 'float64', backend }),
    });
    const n = Number(new DataView(saved.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const text = new TextDecoder().decode(saved.subarray(8, 8 + n));
    expect(text.trimEnd().endsWith('}')).toBe(true);
    expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
    const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    const order = Object.entries(header)
      .sort((x, y) => x[1].data_offsets[0] - y[1].data_offsets[0])
      .map(([k]) => k);
    expect(order).toEqual(['l', 'd', 'a', 'z', 'm']);
    expect(header['l']!.dtype).toBe('I64');
    expect(header['m']!.dtype).toBe('BOOL');
  });

  it('safetensors: writing rejects the reserved name and non-string metadata', async () => {
    await expect(saveSafetensors({ __metadata__: tensor([1], { backend }) })).rejects.toThrow(
      /safetensors: reserved tensor name/,
    );
    await expect(saveSafetensors({ a: tensor([1], { backend }) }, { x: 1 as unknown as string })).rejects.toThrow(
      /metadata 'x' is not a string/,
    );
  });

  describe('safetensors: validation', () => {
    const f = bytes(new Float32Array([1, 2]));
    const ok = {
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
    };

    it('safetensors: truncated length, header or data', () => {
      expect(formatError(() => loadSafetensors(new Uint8Array(5)))).toBe(
        'safetensors: truncated header length; expected at least 8 bytes, got 5',
      );
      const good = build(ok, f);
      expect(formatError(() => loadSafetensors(good.subarray(0, 20)))).toMatch(
        /^safetensors: truncated header; expected \d+ header bytes after the length, got 12$/,
      );
      expect(formatError(() => loadSafetensors(good.subarray(0, good.length - 1), { backend }))).toMatch(
        /^safetensors: truncated data; expected 8 bytes of tensor data, got 7$/,
      );
      for (let cut = 0; cut < good.length; cut++)
        expect(() => loadSafetensors(good.subarray(0, cut), { backend })).toThrow(FormatError);
    });

    it('safetensors: a huge header length, bad JSON and non-object headers', () => {
      const huge = new Uint8Array(16);
      new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
      expect(formatError(() => loadSafetensors(huge))).toBe(
        'safetensors: header too large; expected at most 100000000 bytes, got 1099511627776',
      );
      expect(formatError(() => loadSafetensors(build(null, f, { rawHeader: '{"a": ' })))).toMatch(
        /^safetensors: bad header JSON; expected a JSON object, got a parse error/,
      );
      expect(formatError(() => loadSafetensors(build(null, f, { rawHeader: '[1, 2]' })))).toMatch(
        /^safetensors: bad header; expected JSON starting with '\{', got byte 0x5b$/,
      );
      expect(formatError(() => loadSafetensors(build(null, new Uint8Array(0), { rawHeader: '{"a": 1}' })))).toMatch(
        /^safetensors: bad entry 'a'/,
      );
      expect(formatError(() => loadSafetensors(build({ __metadata__: { x: 1 } }, new Uint8Array(0))))).toMatch(
        /^safetensors: bad __metadata__/,
      );
    });

    it('safetensors: unknown dtypes, bad shapes, sizes that do not match shapes', () => {
      expect(
        formatError(() =>
          loadSafetensors(build({ a: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8))),
        ),
      ).toMatch(/^safetensors: unsupported dtype of 'a'; expected one of BOOL, U8, .*, got "C64"$/);
      expect(
        formatError(() =>
          loadSafetensors(build({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4))),
        ),
      ).toBe("safetensors: bad shape of 'a'; expected an array of non-negative integers, got [-1]");
      expect(
        formatError(() => loadSafetensors(build({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f))),
      ).toBe("safetensors: size of 'a' does not match its shape; expected 12 bytes for F32 [3], got 8");
      expect(
        formatError(() => loadSafetensors(build({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, f))),
      ).toMatch(/^safetensors: bad data_offsets of 'a'; expected \[begin, end\] with 0 <= begin <= end, got \[4,0\]$/);
    });

    it('safetensors: overlapping, gapped, out-of-range offsets and trailing bytes', () => {
      expect(
        formatError(() =>
          loadSafetensors(
            build(
              {
                a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
                b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
              },
              f,
            ),
          ),
        ),
      ).toBe("safetensors: 'b' overlaps the tensor before it; expected data_offsets to start at 8, got 4");
      expect(
        formatError(() => loadSafetensors(build({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f))),
      ).toBe("safetensors: gap before 'a'; expected data_offsets to start at 0, got 4");
      expect(
        formatError(() => loadSafetensors(build({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f))),
      ).toBe('safetensors: truncated data; expected 16 bytes of tensor data, got 8');
      expect(
        formatError(() => loadSafetensors(build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f))),
      ).toBe('safetensors: trailing bytes after the tensors; expected 4 bytes of tensor data, got 8');
    });

    it('safetensors: an I64 value outside int32 is a FormatError', () => {
      expect(
        formatError(() =>
          loadSafetensors(
            build({ a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, bytes(new BigInt64Array([2n ** 40n]))),
            { backend },
          ),
        ),
      ).toBe(
        "safetensors: int64 value out of int32 range in 'a'; expected values in [-2147483648, 2147483647], got 1099511627776 at element 0",
      );
    });
  });
});
