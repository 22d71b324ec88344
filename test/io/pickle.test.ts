/**
 * @module io/pickle.test — the pickle writer and the restricted unpickler: round trips,
 * Python's own pickles in every protocol, the opcodes torch's weights_only reader allows,
 * and bad input (disallowed globals, truncation, unknown opcodes) as FormatErrors.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../runtime/io/errors.ts';
import { PyFloat, PyGlobal, PyReduce, PyTuple, SAFE_GLOBALS, pickle, unpickle } from '../../runtime/io/pickle.ts';

const pickles = JSON.parse(readFileSync(new URL('../fixtures/io/pickles.json', import.meta.url), 'utf8')) as Record<
  string,
  string
>;
const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const enc = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

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

// torch 1.13's _weights_only_unpickler opcodes, plus BINFLOAT (torch >= 2.0).
const WEIGHTS_ONLY_OPS = new Set([
  0x61, 0x65, 0x68, 0x4a, 0x4b, 0x4d, 0x51, 0x71, 0x58, 0x62, 0x7d, 0x5d, 0x8f, 0x29, 0x63, 0x8a, 0x6a, 0x72, 0x28,
  0x89, 0x81, 0x88, 0x4e, 0x80, 0x52, 0x73, 0x75, 0x55, 0x2e, 0x74, 0x85, 0x86, 0x87, 0x47,
]);

/** The opcodes of a pickle we wrote (walks arguments by the writer's own encodings). */
function opcodes(b: Uint8Array): number[] {
  const ops: number[] = [];
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let i = 0;
  while (i < b.length) {
    const op = b[i++]!;
    ops.push(op);
    if (op === 0x80 || op === 0x4b || op === 0x71 || op === 0x68) i += 1;
    else if (op === 0x4d) i += 2;
    else if (op === 0x4a || op === 0x72 || op === 0x6a) i += 4;
    else if (op === 0x47) i += 8;
    else if (op === 0x58) i += 4 + v.getUint32(i, true);
    else if (op === 0x8a) i += 1 + b[i]!;
    else if (op === 0x63) {
      i = b.indexOf(0x0a, i) + 1;
      i = b.indexOf(0x0a, i) + 1;
    } else if (op === 0x2e) break;
  }
  return ops;
}

describe('pickle', () => {
  it('pickle: round-trips None, bools, ints of every width, floats, strings, lists, tuples and dicts', () => {
    const value = {
      n: null,
      t: true,
      f: false,
      ints: [0, 255, 256, 65535, 65536, -1, -(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1, -(2 ** 40)],
      big: [2n ** 63n, -(2n ** 70n), 2n ** 64n - 1n],
      floats: [0.5, -1e-300, Infinity, -Infinity, -0],
      s: ['', 'ascii', 'ünïcødé ✓ 🎉'],
      tup: new PyTuple([1, new PyTuple([]), new PyTuple([2, 3, 4, 5])]),
      nested: { a: [[1], { b: null }] },
    };
    const back = unpickle(pickle(value)) as Map<string, unknown>;
    expect(back).toBeInstanceOf(Map);
    expect(back.get('n')).toBeNull();
    expect(back.get('t')).toBe(true);
    expect(back.get('ints')).toEqual(value.ints);
    expect(back.get('big')).toEqual(value.big);
    const floats = back.get('floats') as number[];
    expect(floats.slice(0, 4)).toEqual([0.5, -1e-300, Infinity, -Infinity]);
    expect(Object.is(floats[4], -0)).toBe(true);
    expect(back.get('s')).toEqual(value.s);
    const tup = back.get('tup') as PyTuple;
    expect(tup).toBeInstanceOf(PyTuple);
    expect((tup.items[2] as PyTuple).items).toEqual([2, 3, 4, 5]);
    expect(back.get('nested')).toEqual(new Map([['a', [[1], new Map([['b', null]])]]]));
  });

  it('pickle: a NaN float survives; PyFloat forces a float for an integral number', () => {
    const back = unpickle(pickle([NaN, new PyFloat(1)])) as number[];
    expect(Number.isNaN(back[0])).toBe(true);
    expect(back[1]).toBe(1);
    const b = pickle(new PyFloat(1));
    expect(b[2]).toBe(0x47); // BINFLOAT, not BININT1
  });

  it('pickle: a Map is written as collections.OrderedDict and a plain object as dict', () => {
    const od = pickle(
      new Map([
        ['z', 1],
        ['a', 2],
      ]),
    );
    expect(new TextDecoder('latin1').decode(od)).toContain('collections\nOrderedDict\n');
    expect(new TextDecoder('latin1').decode(pickle({ z: 1 }))).not.toContain('OrderedDict');
    expect([...(unpickle(od) as Map<string, number>).keys()]).toEqual(['z', 'a']);
  });

  it('pickle: canonical integer keys of a plain object are written as ints; other keys stay strings', () => {
    const back = unpickle(pickle({ 0: 'a', 12: 'b', '01': 'c', x: 'd' })) as Map<unknown, string>;
    expect([...back.keys()]).toEqual([0, 12, '01', 'x']);
  });

  it('pickle: batches of more than 1000 items, and more than 256 memo entries', () => {
    const list = Array.from({ length: 2503 }, (_, i) => [i]);
    const dict = Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`k${i}`, i]));
    const back = unpickle(pickle({ list, dict })) as Map<string, unknown>;
    expect(back.get('list')).toEqual(list);
    expect((back.get('dict') as Map<string, number>).get('k1499')).toBe(1499);
  });

  it('pickle: the same object twice is written once and read back as one object; cycles survive', () => {
    const shared = [1, 2];
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    const back = unpickle(pickle({ a: shared, b: shared, c: cyclic })) as Map<string, unknown[]>;
    expect(back.get('a')).toBe(back.get('b'));
    expect(back.get('c')![0]).toBe(back.get('c'));
  });

  it('pickle: writes only opcodes that torch weights_only unpickler reads', () => {
    const bytes = pickle({
      a: [1, 2, 3],
      t: new PyTuple([1, 2, 3, 4]),
      m: new Map([['x', 2n ** 70n]]),
      f: 0.25,
      s: 'x',
      n: null,
      b: [true, false],
      big: Array.from({ length: 1200 }, (_, i) => i * 1000),
      r: new PyReduce(new PyGlobal('torch', 'Size'), new PyTuple([new PyTuple([2])])),
    });
    const ops = opcodes(bytes);
    expect(ops.length).toBeGreaterThan(20);
    for (const op of ops) expect(WEIGHTS_ONLY_OPS.has(op), `opcode 0x${op.toString(16)}`).toBe(true);
  });

  it('pickle: rejects values that have no weights_only form', () => {
    expect(() => pickle({ f: () => 1 })).toThrow(/pickle: cannot write a function at root\["f"\]/);
    expect(() => pickle([new Set([1])])).toThrow(/pickle: cannot write a Set at root\[0\]/);
    expect(() => pickle(new Uint8Array(2))).toThrow(/cannot write a Uint8Array/);
    expect(() => pickle(new Date())).toThrow(/cannot write a Date/);
  });

  for (const p of [0, 1, 2, 3, 4, 5]) {
    it(`pickle: reads Python's protocol-${p} pickle of a plain value`, () => {
      const v = unpickle(hex(pickles[`protocol${p}`]!)) as Map<string, unknown>;
      expect(v.get('i')).toEqual([0, -1, 255, 65536, -(2 ** 31), 2 ** 31, 2n ** 62n, -(2n ** 70n)]);
      expect(v.get('f')).toEqual([0.5, -1e300, Infinity]);
      expect(v.get('s')).toBe('hé✓');
      expect(v.get('b')).toEqual(new Uint8Array([0, 255]));
      const t = v.get('t') as PyTuple;
      expect(t.items[0]).toBe(1);
      expect((t.items[1] as PyTuple).items).toEqual([2, 3]);
      expect((t.items[2] as PyTuple).items).toEqual([]);
      expect(v.get('n')).toBeNull();
      expect(v.get('bo')).toEqual([true, false]);
      expect(v.get('od')).toEqual(new Map([['x', 1]]));
      const sh = v.get('sh') as unknown[][];
      expect(sh[0]).toEqual([1, 2]);
      expect(sh[0]).toBe(sh[1]);
    });
  }

  it("pickle: reads Python's batched APPENDS and protocol-4 sets", () => {
    expect(unpickle(hex(pickles['batched2']!))).toEqual(Array.from({ length: 1005 }, (_, i) => i));
    const sets = unpickle(hex(pickles['sets4']!)) as Map<string, Set<number>>;
    expect(sets.get('set')).toEqual(new Set([3]));
    expect(sets.get('fs')).toEqual(new Set([4]));
  });

  it('pickle: a global outside the allow-list is a FormatError naming it', () => {
    const e = formatError(() => unpickle(enc('\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00ls\x85R.')));
    expect(e.message).toMatch(
      /^pickle: global not allowed at byte 2; expected one of \d+ allowed globals \(collections\.OrderedDict, .*\), got os\.system$/,
    );
    const stack = formatError(() => unpickle(enc('\x80\x04\x8c\x08builtins\x8c\x04eval\x93.')));
    expect(stack.message).toMatch(/got builtins\.eval$/);
    // Python 3 pickles sets with protocol 2 via builtins.set, which torch's list lacks too.
    expect(formatError(() => unpickle(enc('\x80\x02c__builtin__\nset\n)R.'))).message).toMatch(/got __builtin__\.set$/);
  });

  it('pickle: globals resolve through the given allow-list, and a referenced-only global cannot be called', () => {
    const globals = new Map([...SAFE_GLOBALS, ['torch.FloatStorage', {}]]);
    const ref = unpickle(enc('\x80\x02ctorch\nFloatStorage\n.'), { globals });
    expect(ref).toBeInstanceOf(PyGlobal);
    expect((ref as PyGlobal).path).toBe('torch.FloatStorage');
    expect(formatError(() => unpickle(enc('\x80\x02ctorch\nFloatStorage\n)R.'), { globals })).message).toMatch(
      /^pickle: call of torch\.FloatStorage at byte 23; expected a callable global, got torch\.FloatStorage, which may only be referenced$/,
    );
    const size = unpickle(
      pickle(new PyReduce(new PyGlobal('torch', 'Size'), new PyTuple([new PyTuple([2, 3])]))),
    ) as PyTuple;
    expect(size.items).toEqual([2, 3]);
  });

  it('pickle: truncated data, unknown opcodes, stack misuse and persistent ids without a loader are FormatErrors', () => {
    const good = pickle({ a: [1, 2, 'three'] });
    for (let cut = 0; cut < good.length; cut++) {
      expect(() => unpickle(good.subarray(0, cut)), `cut at ${cut}`).toThrow(FormatError);
    }
    expect(formatError(() => unpickle(good.subarray(0, 9))).message).toMatch(
      /^pickle: truncated data at byte \d+; expected \d+ more bytes, got \d+$/,
    );
    expect(formatError(() => unpickle(enc('\x80\x02\x00.'))).message).toBe(
      'pickle: unsupported opcode at byte 2; expected an opcode of protocols 0-5 that builds plain data, got 0x00',
    );
    expect(formatError(() => unpickle(enc('\x80\x02(i__main__\nX\n.'))).message).toMatch(/got 0x69 \(INST\)$/);
    expect(formatError(() => unpickle(enc('\x80\x02s.'))).message).toMatch(/^pickle: stack underflow at byte 2/);
    expect(formatError(() => unpickle(enc('\x80\x02h\x05.'))).message).toBe(
      'pickle: memo key not found at byte 2; expected a key stored by PUT (0 stored), got 5',
    );
    expect(formatError(() => unpickle(enc('\x80\x02K\x01Q.'))).message).toMatch(
      /^pickle: persistent id at byte 4; expected no persistent ids/,
    );
    expect(formatError(() => unpickle(enc('\x80\x06N.'))).message).toMatch(/unsupported protocol .*got 6$/);
    expect(formatError(() => unpickle(enc('\x80\x02]K\x01b.'))).message).toMatch(/BUILD on a non-dict/);
  });
});
