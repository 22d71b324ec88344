/**
 * @module io/fuzz/attacks — crafted hostile inputs for every reader: DEFLATE bombs,
 * huge shapes and stride 0, deep nesting, memo expansion, long ints, forbidden globals.
 * Pure builders over the project's own writers (no node: imports), shared by the
 * vitest suites and scripts/fuzz.mjs.
 */
import { crc32 } from '../../../runtime/io/crc32.ts';
import { PyGlobal, PyPersistentId, PyReduce, PyTuple, pickle } from '../../../runtime/io/pickle.ts';
import { writeZip, type ZipWriteEntry } from '../../../runtime/io/zip.ts';

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** Concatenates byte arrays. */
export function cat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Little-endian uint32 bytes. */
export function u32le(x: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, x >>> 0, true);
  return b;
}

/**
 * A raw DEFLATE stream that inflates to `n` zero bytes (n >= 1) in about 13 bits per 258 bytes:
 * one fixed-Huffman block of a literal 0 and back-references of length 258, distance 1.
 */
export function deflateZeros(n: number): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  const put = (value: number, count: number): void => {
    acc |= value << bits;
    bits += count;
    while (bits >= 8) {
      out.push(acc & 0xff);
      acc >>>= 8;
      bits -= 8;
    }
  };
  // Huffman codes are stored most-significant bit first.
  const code = (value: number, count: number): void => {
    for (let i = count - 1; i >= 0; i--) put((value >> i) & 1, 1);
  };
  put(1, 1); // BFINAL
  put(1, 2); // BTYPE 01, fixed Huffman
  code(0x30, 8); // literal 0
  let left = n - 1;
  while (left >= 258) {
    code(0xc5, 8); // length code 285 (258)
    code(0, 5); // distance code 0 (1)
    left -= 258;
  }
  while (left > 0) {
    code(0x30, 8);
    left--;
  }
  code(0, 7); // end of block
  if (bits > 0) put(0, 8 - bits);
  return Uint8Array.from(out);
}

/** A gzip member around a raw DEFLATE stream (CRC and ISIZE as given). */
export function gzipMember(deflate: Uint8Array, crc: number, isize: number): Uint8Array {
  return cat(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]), deflate, u32le(crc), u32le(isize));
}

/** A one-entry zip archive whose entry is DEFLATE data, with the sizes it declares. */
export function deflateZip(name: string, deflate: Uint8Array, declaredSize: number, crc = 0, entries = 1): Uint8Array {
  const nameBytes = latin1(name);
  const local = new Uint8Array(30);
  const lv = new DataView(local.buffer);
  lv.setUint32(0, 0x04034b50, true);
  lv.setUint16(4, 20, true);
  lv.setUint16(8, 8, true);
  lv.setUint32(14, crc, true);
  lv.setUint32(18, deflate.length, true);
  lv.setUint32(22, declaredSize, true);
  lv.setUint16(26, nameBytes.length, true);
  const cds: Uint8Array[] = [];
  // Several central entries may point at the same local data (an overlapping-entries bomb).
  for (let i = 0; i < entries; i++) {
    const n = entries === 1 ? nameBytes : latin1(`${name}.${i}`);
    const cd = new Uint8Array(46);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, 8, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, deflate.length, true);
    cv.setUint32(24, declaredSize, true);
    cv.setUint16(28, n.length, true);
    cv.setUint32(42, 0, true);
    cds.push(cd, n);
  }
  const cdBytes = cat(...cds);
  const cdOffset = 30 + nameBytes.length + deflate.length;
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries, true);
  ev.setUint16(10, entries, true);
  ev.setUint32(12, cdBytes.length, true);
  ev.setUint32(16, cdOffset, true);
  return cat(local, nameBytes, deflate, cdBytes, eocd);
}

/** A torch zip checkpoint around a given data.pkl and storages. */
export function ckpt(pkl: Uint8Array, storages: Readonly<Record<string, Uint8Array>> = {}): Uint8Array {
  const entries: ZipWriteEntry[] = [{ name: 'archive/data.pkl', data: pkl }];
  for (const [k, data] of Object.entries(storages)) entries.push({ name: `archive/data/${k}`, data });
  entries.push({ name: 'archive/version', data: latin1('3\n') });
  return writeZip(entries);
}

/** The pickle of one tensor `_rebuild_tensor_v2(storage, offset, size, stride)` over a FloatStorage of `numel`. */
export function tensorPickle(
  numel: number,
  offset: number,
  size: readonly number[],
  stride: readonly number[],
  storage = 'FloatStorage',
): Uint8Array {
  const pid = new PyPersistentId(new PyTuple(['storage', new PyGlobal('torch', storage), '0', 'cpu', numel]));
  return pickle({
    w: new PyReduce(
      new PyGlobal('torch._utils', '_rebuild_tensor_v2'),
      new PyTuple([pid, offset, new PyTuple(size), new PyTuple(stride), false, new Map()]),
    ),
  });
}

/** `depth` nested lists built on the stack: `] ] ] ... a a a`. */
export function deepListPickle(depth: number): Uint8Array {
  return cat(latin1('\x80\x02'), new Uint8Array(depth).fill(0x5d), new Uint8Array(depth - 1).fill(0x61), latin1('.'));
}

/** `depth` nested lists built through the memo, with a constant stack (6 bytes a level). */
export function memoDeepPickle(depth: number): Uint8Array {
  const step = latin1(']h\x00aq\x000');
  const body = new Uint8Array(step.length * depth);
  for (let i = 0; i < depth; i++) body.set(step, i * step.length);
  return cat(latin1('\x80\x02]q\x000'), body, latin1('h\x00.'));
}

/** OrderedDict(list of `n` pairs), the list memoised and the call repeated `m` times, results kept in a list. */
export function memoExpansionPickle(n: number, m: number): Uint8Array {
  const pairs = new Uint8Array(5 * n);
  for (let i = 0; i < n; i++) pairs.set([0x4b, i & 0xff, 0x4b, 1, 0x86], 5 * i);
  const call = latin1('h\x00h\x01\x85Ra');
  const calls = new Uint8Array(call.length * m);
  for (let i = 0; i < m; i++) calls.set(call, i * call.length);
  return cat(latin1('\x80\x02ccollections\nOrderedDict\nq\x000]q\x01('), pairs, latin1('e0]'), calls, latin1('.'));
}

/** A LONG4 of `n` bytes (all 0x5a). */
export function long4Pickle(n: number): Uint8Array {
  return cat(latin1('\x80\x02\x8b'), u32le(n), new Uint8Array(n).fill(0x5a), latin1('.'));
}

/** A protocol-0 INT of `digits` decimal digits. */
export function textIntPickle(digits: number): Uint8Array {
  return cat(latin1('I'), new Uint8Array(digits).fill(0x37), latin1('\n.'));
}

/** A safetensors file from a header object or raw header text, and data. */
export function safetensorsFile(header: unknown, data: Uint8Array = new Uint8Array(0), raw?: string): Uint8Array {
  const h = new TextEncoder().encode(raw ?? JSON.stringify(header));
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(h.length), true);
  return cat(len, h, data);
}

/** An IDX header declaring `shape` of `code`, with `data` after it. */
export function idxFile(code: number, shape: readonly number[], data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const head = new Uint8Array(4 + 4 * shape.length);
  const v = new DataView(head.buffer);
  head[2] = code;
  head[3] = shape.length;
  shape.forEach((n, i) => v.setUint32(4 + 4 * i, n >>> 0, false));
  return cat(head, data);
}

/** One crafted case: the reader it targets and its bytes. */
export interface Attack {
  readonly target: string;
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Every crafted case, cheap to build (the largest is a few MB). */
export function attacks(): Attack[] {
  const list: Attack[] = [];
  const add = (target: string, name: string, bytes: Uint8Array): void => {
    list.push({ target, name, bytes });
  };
  const f4 = new Uint8Array(16);
  // torch-ckpt: extents and sizes.
  add('torch-ckpt', 'huge shape, stride 0', ckpt(tensorPickle(4, 0, [2 ** 20, 2 ** 20], [0, 0]), { 0: f4 }));
  add('torch-ckpt', '2^40 elements, stride 0', ckpt(tensorPickle(4, 0, [2 ** 40], [0]), { 0: f4 }));
  add('torch-ckpt', '2^40 elements, contiguous', ckpt(tensorPickle(4, 0, [2 ** 20, 2 ** 20], [2 ** 20, 1]), { 0: f4 }));
  add('torch-ckpt', 'offset past the storage', ckpt(tensorPickle(4, 2 ** 50, [1], [1]), { 0: f4 }));
  add('torch-ckpt', 'stride past the storage', ckpt(tensorPickle(4, 0, [2, 2], [2 ** 52, 1]), { 0: f4 }));
  add('torch-ckpt', 'storage numel 2^50', ckpt(tensorPickle(2 ** 50, 0, [1], [1]), { 0: f4 }));
  add('torch-ckpt', 'zero size, huge other dims', ckpt(tensorPickle(4, 0, [0, 2 ** 52], [2 ** 52, 1]), { 0: f4 }));
  add(
    'torch-ckpt',
    'rank 100000',
    ckpt(tensorPickle(4, 0, new Array<number>(100000).fill(1), new Array<number>(100000).fill(1)), { 0: f4 }),
  );
  add('torch-ckpt', 'deep lists', ckpt(deepListPickle(10000)));
  add('torch-ckpt', 'deep lists through the memo', ckpt(memoDeepPickle(10000)));
  add('torch-ckpt', 'memo expansion', ckpt(memoExpansionPickle(10000, 6000)));
  add('torch-ckpt', 'LONG4 of 300 KB', ckpt(long4Pickle(300_000)));
  add('torch-ckpt', 'zip DEFLATE bomb as data.pkl', deflateZip('archive/data.pkl', deflateZeros(64 << 20), 100));
  add('torch-ckpt', 'os.system', ckpt(latin1('\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.')));
  add(
    'torch-ckpt',
    'builtins.eval via STACK_GLOBAL',
    ckpt(latin1('\x80\x04\x8c\x08builtins\x8c\x04eval\x93X\x01\x00\x00\x001\x85R.')),
  );
  add(
    'torch-ckpt',
    '__proto__ key',
    ckpt(
      pickle(
        new Map<string, unknown>([
          ['__proto__', new Map([['polluted', 1]])],
          ['constructor', new Map([['prototype', new Map([['polluted', 1]])]])],
        ]),
      ),
    ),
  );
  add(
    'torch-ckpt',
    'zip-slip names',
    writeZip([
      { name: '../../archive/data.pkl', data: pickle(1) },
      { name: '/etc/passwd', data: latin1('x') },
    ]),
  );
  // pickle alone.
  add('pickle', 'deep lists', deepListPickle(10000));
  add('pickle', 'deep lists through the memo', memoDeepPickle(10000));
  add('pickle', 'memo expansion', memoExpansionPickle(10000, 6000));
  add('pickle', 'LONG4 of 300 KB', long4Pickle(300_000));
  add('pickle', 'LONG4 claiming 2^31 - 1 bytes', cat(latin1('\x80\x02\x8b'), u32le(0x7fffffff), latin1('.')));
  add('pickle', 'INT of 100000 digits', textIntPickle(100_000));
  add('pickle', 'BINUNICODE claiming 4 GB', cat(latin1('\x80\x02X'), u32le(0xffffffff), latin1('abc.')));
  add(
    'pickle',
    'BINUNICODE8 claiming 2^63',
    cat(latin1('\x80\x04\x8d'), new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0x80]), latin1('.')),
  );
  add(
    'pickle',
    'LONG_BINPUT index 2^32 - 1',
    cat(latin1('\x80\x02Nr'), u32le(0xffffffff), latin1('j'), u32le(0xffffffff), latin1('.')),
  );
  add('pickle', 'os.system', latin1('\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.'));
  add(
    'pickle',
    'posix.system via STACK_GLOBAL',
    latin1('\x80\x04\x8c\x05posix\x8c\x06system\x93X\x02\x00\x00\x00ls\x85R.'),
  );
  add('pickle', '__builtin__.getattr', latin1('\x80\x02c__builtin__\ngetattr\n.'));
  add('pickle', 'INST', latin1('\x80\x02(i__main__\nX\n.'));
  add('pickle', 'OBJ', latin1('\x80\x02(cos\nsystem\no.'));
  add('pickle', 'EXT1', latin1('\x80\x02\x82\x01.'));
  add(
    'pickle',
    'global with a 1 MB name',
    cat(latin1('\x80\x02c'), new Uint8Array(1 << 20).fill(0x61), latin1('\nx\n.')),
  );
  add('pickle', 'MARK 100000 deep', cat(latin1('\x80\x02'), new Uint8Array(100000).fill(0x28), latin1('N.')));
  // safetensors.
  add(
    'safetensors',
    'header nested 100000 deep',
    safetensorsFile(null, new Uint8Array(0), `{"a":${'['.repeat(100000)}${']'.repeat(100000)}}`),
  );
  add(
    'safetensors',
    'shape deep in an entry',
    safetensorsFile(
      null,
      new Uint8Array(0),
      `{"a":{"dtype":"F32","shape":${'['.repeat(20000)}${']'.repeat(20000)},"data_offsets":[0,0]}}`,
    ),
  );
  add(
    'safetensors',
    '2^40 elements',
    safetensorsFile({ a: { dtype: 'F32', shape: [2 ** 20, 2 ** 20], data_offsets: [0, 4 * 2 ** 40] } }),
  );
  add(
    'safetensors',
    'zero size, huge dim',
    safetensorsFile({ a: { dtype: 'F32', shape: [0, 2 ** 53 - 1], data_offsets: [0, 0] } }),
  );
  add('safetensors', 'header length 2^63', cat(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0x80]), latin1('{}')));
  add(
    'safetensors',
    '__proto__ entry',
    safetensorsFile(null, new Uint8Array(4), '{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'),
  );
  // idx.
  add('idx', '255 dims of 2^32 - 1', idxFile(0x08, new Array<number>(255).fill(0xffffffff)));
  add('idx', 'overflow then zero', idxFile(0x0d, [...new Array<number>(40).fill(0xffffffff), 0]));
  add('idx', '2^40 elements', idxFile(0x0d, [2 ** 20, 2 ** 20], new Uint8Array(64)));
  // gzip and zip.
  add('gzip', 'DEFLATE bomb 512 MiB', gzipMember(deflateZeros(512 << 20), 0, 0));
  add('gzip', 'bomb with a lying ISIZE', gzipMember(deflateZeros(32 << 20), 0, 10));
  add('zip', 'entry inflating past its declared size', deflateZip('a', deflateZeros(256 << 20), 1000));
  add('zip', 'entry declaring 4 GB', deflateZip('a', deflateZeros(1000), 0xfffffffe));
  add(
    'zip',
    '1000 overlapping entries',
    deflateZip('a', deflateZeros(1 << 20), 1 << 20, crc32(new Uint8Array(1 << 20)), 1000),
  );
  const countBomb = writeZip([{ name: 'a', data: new Uint8Array(1) }]);
  new DataView(countBomb.buffer).setUint16(countBomb.length - 22 + 10, 0xfffe, true);
  add('zip', 'entry count 65534', countBomb);
  return list;
}
