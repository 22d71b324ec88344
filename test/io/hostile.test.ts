/**
 * @module io/hostile.test — the readers against hostile files: input views inside larger
 * buffers (pooled Node Buffers, DataViews, offsets) never leak the bytes around them, and
 * every bound (tensor extents, inflation, pickle work, int size, nesting) is a typed
 * LimitError or FormatError found before the cost is paid.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../runtime/backend.ts';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { Tensor, tensor } from '../../runtime/tensor/index.ts';
import { FormatError, LimitError } from '../../runtime/io/errors.ts';
import { gunzip, gzip, isGzip } from '../../runtime/io/gzip.ts';
import { encodeIdx, parseIdx } from '../../runtime/io/idx.ts';
import { PyTuple, pickle, unpickle } from '../../runtime/io/pickle.ts';
import { loadSafetensors, saveSafetensors } from '../../runtime/io/safetensors.ts';
import { half, int64, loadTorch, saveTorch } from '../../runtime/io/torch-ckpt.ts';
import { listZip, readZip, readZipEntry, writeZip } from '../../runtime/io/zip.ts';
import {
  ckpt,
  deepListPickle,
  deflateZeros,
  deflateZip,
  gzipMember,
  long4Pickle,
  memoDeepPickle,
  memoExpansionPickle,
  safetensorsFile,
  tensorPickle,
  textIntPickle,
} from './fuzz/attacks.ts';

const backend: Backend = createReferenceBackend();
beforeAll(() => setDefaultBackend(backend));

const SECRET = new TextEncoder().encode('SECRET');
const secretFill = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => SECRET[i % SECRET.length]!);

/** `file` as a view inside a larger buffer holding SECRET on both sides, in several shapes. */
function views(file: Uint8Array): [string, ArrayBufferView | ArrayBuffer][] {
  const pad = 67;
  const big = secretFill(file.length + 2 * pad + 5);
  big.set(file, pad);
  const view = big.subarray(pad, pad + file.length);
  // A Node Buffer whose backing store is shared with other data, as fs.readFile's pooled results are.
  const pooled = Buffer.from(big.buffer, pad, file.length);
  return [
    ['Uint8Array view', view],
    ['pooled Buffer', pooled],
    ['DataView', new DataView(big.buffer, pad, file.length)],
    ['ArrayBuffer (exact)', big.slice(pad, pad + file.length).buffer],
  ];
}

/** A comparable form of any reader result: tensors become their values. */
async function plain(x: unknown): Promise<unknown> {
  if (x instanceof Tensor) return { tensor: x.dtype, shape: [...x.shape], values: await x.tolist() };
  if (x instanceof Uint8Array) return { bytes: Array.from(x) };
  if (ArrayBuffer.isView(x)) return { array: Array.from(x as unknown as ArrayLike<number>) };
  if (Array.isArray(x)) return Promise.all(x.map(plain));
  if (x instanceof PyTuple) return { tuple: await plain(x.items) };
  if (x instanceof Map)
    return {
      map: await Promise.all([...(x as Map<unknown, unknown>)].map(async ([k, v]) => [await plain(k), await plain(v)])),
    };
  if (x !== null && typeof x === 'object')
    return { obj: await Promise.all(Object.entries(x).map(async ([k, v]) => [k, await plain(v)])) };
  return x;
}

async function outcome(fn: () => unknown): Promise<{ value?: unknown; error?: string }> {
  try {
    return { value: await plain(await fn()) };
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return { error: (e as Error).message };
  }
}

async function typedError(fn: () => unknown): Promise<FormatError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FormatError);
  return caught as FormatError;
}

async function limitError(fn: () => unknown, limit: string): Promise<LimitError> {
  const e = await typedError(fn);
  expect(e).toBeInstanceOf(LimitError);
  expect((e as LimitError).limit).toBe(limit);
  expect(e.message).toContain(`raise it with the ${limit} option`);
  return e as LimitError;
}

type Reader = (b: ArrayBufferView | ArrayBuffer) => unknown;

describe('io: readers see only their own view', () => {
  const readers: [string, () => Promise<Uint8Array>, Reader][] = [
    [
      'parseIdx',
      async () => encodeIdx({ dtype: 'int16', shape: [2, 2], data: new Int16Array([1, -2, 300, 4]) }),
      (b) => parseIdx(b),
    ],
    [
      'parseIdx uint8',
      async () => encodeIdx({ dtype: 'uint8', shape: [3], data: new Uint8Array([1, 2, 3]) }),
      (b) => parseIdx(b),
    ],
    ['gunzip', async () => gzip(new TextEncoder().encode('hello, hostile world')), (b) => gunzip(b)],
    [
      'readZip',
      async () =>
        writeZip([
          { name: 'a', data: new Uint8Array([9, 8, 7]) },
          { name: 'b', data: new TextEncoder().encode('bee') },
        ]),
      (b) => readZip(b),
    ],
    ['unpickle', async () => pickle({ a: [1, 2n ** 70n, 'x'], b: new PyTuple([0.5]) }), (b) => unpickle(b)],
    [
      'loadTorch',
      async () =>
        saveTorch({
          w: tensor(
            [
              [1.5, -2],
              [3, 4],
            ],
            { backend },
          ),
          n: int64(7),
          h: half(tensor([0.25], { backend })),
          tr: tensor(
            [
              [1, 2],
              [3, 4],
            ],
            { backend },
          ).transpose(0, 1),
        }),
      (b) => loadTorch(b, { backend }),
    ],
    [
      'loadSafetensors',
      async () => saveSafetensors({ w: tensor([1, 2, 3], { backend }), i: tensor([5], { dtype: 'int32', backend }) }),
      (b) => loadSafetensors(b, { backend }),
    ],
  ];
  for (const [name, make, read] of readers) {
    it(`${name}: a view inside a larger buffer reads as its standalone copy, every truncation too, with no secret byte in results or messages`, async () => {
      const file = await make();
      const cuts = [
        file.length,
        ...Array.from({ length: Math.min(file.length, 40) }, (_, i) => Math.floor((i * file.length) / 40)),
      ];
      for (const cut of cuts) {
        const part = file.slice(0, cut);
        const want = await outcome(() => read(part.slice()));
        for (const [kind, input] of views(part)) {
          const got = await outcome(() => read(input));
          expect(got, `${name} cut at ${cut} as ${kind}`).toEqual(want);
          expect(JSON.stringify(got, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toMatch(
            /SECRET|83,69,67,82/,
          );
        }
      }
    });
  }

  it('io: isGzip and listZip take views too, and a non-bytes input is a typed error', async () => {
    const gz = await gzip(new Uint8Array([1]));
    expect(isGzip(views(gz)[2]![1])).toBe(true);
    const zip = writeZip([{ name: 'x', data: new Uint8Array([1]) }]);
    for (const [, v] of views(zip)) expect(listZip(v).map((e) => e.name)).toEqual(['x']);
    expect(() => parseIdx('abc' as unknown as Uint8Array)).toThrow(
      /idx: input is not bytes; expected an ArrayBufferView .*, got string/,
    );
  });
});

describe('io: bounds on what a file can make a reader spend', () => {
  const f4 = new Uint8Array(16);

  it('torch-ckpt: a huge shape with stride 0 is a LimitError before any allocation, within the default maxBytes', async () => {
    const file = ckpt(tensorPickle(4, 0, [2 ** 20, 2 ** 20], [0, 0]), { 0: f4 });
    expect(file.length).toBeLessThan(1024);
    const before = process.memoryUsage().rss;
    const e = await limitError(() => loadTorch(file, { backend }), 'maxBytes');
    expect(e.message).toMatch(
      /^torch-ckpt: tensor data \(a view of 'archive\/data\/0' of size \[1048576,1048576\]\) exceeds the maxBytes limit; expected at most 268435456 bytes/,
    );
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
    // 2^40 elements, even with the limit lifted, stay a typed error.
    await limitError(
      () => loadTorch(ckpt(tensorPickle(4, 0, [2 ** 40], [0]), { 0: f4 }), { backend, maxBytes: Infinity }),
      'maxBytes',
    );
    // A small stride-0 expansion within the limit loads.
    const ok = (await loadTorch(
      ckpt(tensorPickle(4, 1, [3, 2], [0, 1]), { 0: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer) }),
      { backend },
    )) as { w: Tensor };
    expect(await ok.w.tolist()).toEqual([
      [2, 3],
      [2, 3],
      [2, 3],
    ]);
  });

  it('torch-ckpt: extents past the storage and storages larger than their entry are FormatErrors while unpickling', async () => {
    const past = await typedError(() =>
      loadTorch(ckpt(tensorPickle(4, 0, [2 ** 20, 2 ** 20], [2 ** 20, 1]), { 0: f4 }), { backend }),
    );
    expect(past.message).toBe(
      "torch-ckpt: tensor reaches past its storage 'archive/data/0'; expected the last element below 4, got element 1099511627775 (size [1048576,1048576], stride [1048576,1], offset 0)",
    );
    expect(
      (await typedError(() => loadTorch(ckpt(tensorPickle(4, 2 ** 50, [1], [1]), { 0: f4 }), { backend }))).message,
    ).toMatch(/reaches past its storage/);
    expect(
      (await typedError(() => loadTorch(ckpt(tensorPickle(2 ** 50, 0, [1], [1]), { 0: f4 }), { backend }))).message,
    ).toBe(
      "torch-ckpt: storage 'archive/data/0' has the wrong size; expected 1125899906842624 x 4 = 4503599627370496 bytes, got 16",
    );
    // A size of 0 reads nothing, whatever the other sizes and strides.
    const empty = (await loadTorch(ckpt(tensorPickle(4, 0, [0, 2 ** 40], [2 ** 40, 1]), { 0: f4 }), { backend })) as {
      w: Tensor;
    };
    expect(empty.w.shape).toEqual([0, 2 ** 40]);
  });

  it('zip: a DEFLATE entry stops inflating at its declared size, and a declared size past maxBytes is refused before inflating', async () => {
    const bomb = deflateZip('a', deflateZeros(256 << 20), 1000);
    expect(bomb.length).toBeLessThan(2 << 20);
    const before = process.memoryUsage().rss;
    const t0 = performance.now();
    const e = await typedError(() => readZipEntry(bomb, listZip(bomb)[0]!));
    expect(e.message).toBe("zip: wrong size of 'a'; expected 1000 bytes, got more (inflation stopped there)");
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
    const declared = deflateZip('a', deflateZeros(1000), 0xfffffffe);
    expect((await limitError(() => readZip(declared), 'maxBytes')).message).toMatch(
      /^zip: the declared sizes of the DEFLATE entries exceeds the maxBytes limit; expected at most 268435456 bytes/,
    );
    await limitError(() => readZipEntry(declared, listZip(declared)[0]!, { maxBytes: 1 << 20 }), 'maxBytes');
    // Many central entries over one local entry (overlapping files) count once each.
    const overlap = deflateZip('a', deflateZeros(1 << 20), 1 << 20, 0, 300);
    await limitError(() => readZip(overlap), 'maxBytes');
    // A torch checkpoint whose data.pkl is such a bomb.
    await typedError(() => loadTorch(deflateZip('archive/data.pkl', deflateZeros(64 << 20), 100), { backend }));
  });

  it('gzip: inflation stops at maxBytes', async () => {
    const bomb = gzipMember(deflateZeros(512 << 20), 0, 0);
    const before = process.memoryUsage().rss;
    const e = await limitError(() => gunzip(bomb, 'train.gz', { maxBytes: 1 << 20 }), 'maxBytes');
    expect(e.message).toBe(
      'train.gz: inflated data exceeds the maxBytes limit; expected at most 1048576 bytes (raise it with the maxBytes option), got more than 1048576 bytes',
    );
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
    // Within the limit, the same data inflates.
    const small = await gzip(new Uint8Array(5000));
    expect((await gunzip(small, 'gzip', { maxBytes: 5000 })).length).toBe(5000);
    await limitError(() => gunzip(small, 'gzip', { maxBytes: 4999 }), 'maxBytes');
  });

  it('pickle: a memoised container passed to a call again and again hits maxItems quickly', async () => {
    const file = memoExpansionPickle(10000, 6000);
    expect(file.length).toBeLessThan(100 * 1024);
    const t0 = performance.now();
    const e = await limitError(() => unpickle(file), 'maxItems');
    expect(e.message).toMatch(/^pickle: work at byte \d+ exceeds the maxItems limit; expected at most \d+ items/);
    expect(performance.now() - t0).toBeLessThan(2000);
    // Raising the limit lets a few calls through.
    expect((unpickle(memoExpansionPickle(100, 3), { maxItems: 10_000 }) as unknown[]).length).toBe(3);
  });

  it('pickle: LONG1/LONG4 decode in linear time, and ints past maxIntBytes are LimitErrors', async () => {
    const t0 = performance.now();
    const x = unpickle(long4Pickle(65536)) as bigint;
    expect(performance.now() - t0).toBeLessThan(500);
    expect(x).toBe(BigInt(`0x${'5a'.repeat(65536)}`));
    // Two's complement, as Python's decode_long: 0xff.. is negative.
    const neg = Uint8Array.from([0x80, 0x02, 0x8a, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x2e]);
    expect(unpickle(neg)).toBe(-(2n ** 64n));
    expect(unpickle(Uint8Array.from([0x80, 0x02, 0x8a, 0x03, 0xff, 0xff, 0x7f, 0x2e]))).toBe(0x7fffff);
    expect(unpickle(Uint8Array.from([0x80, 0x02, 0x8a, 0x03, 0x00, 0x00, 0x80, 0x2e]))).toBe(-0x800000);
    await limitError(() => unpickle(long4Pickle(300_000)), 'maxIntBytes');
    expect(typeof unpickle(long4Pickle(300_000), { maxIntBytes: 300_000 })).toBe('bigint');
    await limitError(() => unpickle(textIntPickle(100_000)), 'maxIntBytes');
  });

  it('pickle and loaders: nesting past maxDepth is a LimitError, not a stack overflow', async () => {
    for (const file of [deepListPickle(10000), memoDeepPickle(10000)]) {
      await limitError(() => unpickle(file), 'maxDepth');
      await limitError(() => loadTorch(ckpt(file), { backend }), 'maxDepth');
    }
    expect(unpickle(deepListPickle(1000))).toBeInstanceOf(Array);
    await limitError(() => unpickle(deepListPickle(1000), { maxDepth: 999 }), 'maxDepth');
    // A limit raised past what the stack holds is still a typed error.
    await limitError(() => loadTorch(ckpt(memoDeepPickle(200_000)), { backend, maxDepth: 1e9 }), 'maxDepth');
    // A cycle is not depth.
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect((unpickle(pickle(cyclic)) as unknown[])[0]).toBeInstanceOf(Array);
  });

  it('safetensors: a deeply nested header is a LimitError; huge shapes and messages stay bounded', async () => {
    const deep = safetensorsFile(null, new Uint8Array(0), `{"a":${'['.repeat(100000)}${']'.repeat(100000)}}`);
    expect((await limitError(() => loadSafetensors(deep), 'maxDepth')).message).toMatch(
      /^safetensors: header nesting depth exceeds the maxDepth limit; expected at most 1000 levels/,
    );
    const shape = safetensorsFile(
      null,
      new Uint8Array(0),
      `{"a":{"dtype":"F32","shape":${'['.repeat(500)}${']'.repeat(500)},"data_offsets":[0,0]}}`,
    );
    const e = await typedError(() => loadSafetensors(shape));
    expect(e.message.length).toBeLessThan(300);
    const huge = safetensorsFile({ a: { dtype: 'F32', shape: [2 ** 20, 2 ** 20], data_offsets: [0, 4 * 2 ** 40] } });
    expect((await typedError(() => loadSafetensors(huge))).message).toBe(
      'safetensors: truncated data; expected 4398046511104 bytes of tensor data, got 0',
    );
  });

  it('idx: a product of dims past 2^53, or 0 after an overflow, never passes as a size', async () => {
    const overflow = new Uint8Array(4 + 4 * 41);
    overflow[2] = 0x0d;
    overflow[3] = 41;
    overflow.fill(0xff, 4, 4 + 4 * 40);
    expect(parseIdx(overflow).data.length).toBe(0);
    const big = new Uint8Array(4 + 8 + 64);
    big[2] = 0x0d;
    big[3] = 2;
    new DataView(big.buffer).setUint32(4, 2 ** 20, false);
    new DataView(big.buffer).setUint32(8, 2 ** 20, false);
    expect((await typedError(() => parseIdx(big))).message).toBe(
      'idx: truncated data; expected 4398046511104 bytes for shape [1048576,1048576] float32, got 64',
    );
  });

  it('torch-ckpt: legitimate checkpoints of tens of MB load within the defaults', async () => {
    const w = new Float32Array(8 << 20).map((_, i) => i % 7);
    const bytes = await saveTorch({
      w: Tensor.fromArray(backend, 'float32', [w.length], w),
      v: tensor([1, 2], { backend }),
    });
    const t0 = performance.now();
    const back = (await loadTorch(bytes, { backend })) as { w: Tensor };
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(back.w.shape).toEqual([8 << 20]);
    expect((await back.w.data())[8]).toBe(1);
  }, 30_000);
});
