/**
 * @module io/fuzz/engine — a small deterministic fuzzer for the byte-format readers.
 *
 * Each target is a reader with seed inputs; a case is a seed put through a few random
 * mutations (bit flips, interesting values in length fields, truncation, splices,
 * inserted opcodes), or a structure-aware variant (a mutated pickle re-zipped into a
 * checkpoint, a mutated safetensors header with its length fixed), or a crafted attack
 * ({@link attacks}). Every case must return or throw an error of the project's own
 * classes; anything else (RangeError, TypeError, a case over its time bound, a changed
 * Object.prototype) is a crash. No node: imports: the same code runs in vitest and,
 * bundled, from scripts/fuzz.mjs.
 */
import { LightningError } from '../../../runtime/errors.ts';
import { LimitError } from '../../../runtime/io/errors.ts';
import { gunzip } from '../../../runtime/io/gzip.ts';
import { parseIdx } from '../../../runtime/io/idx.ts';
import { unpickle } from '../../../runtime/io/pickle.ts';
import { loadSafetensors } from '../../../runtime/io/safetensors.ts';
import { loadTorch } from '../../../runtime/io/torch-ckpt.ts';
import { listZip, readZip, writeZip } from '../../../runtime/io/zip.ts';
import type { Backend } from '../../../runtime/backend.ts';
import { attacks, cat, safetensorsFile } from './attacks.ts';

/** The limits the fuzzer passes, small so that no case may cost much memory. */
export const FUZZ_LIMITS = { maxBytes: 16 << 20 } as const;

/** A reader under test. */
export interface Target {
  readonly name: string;
  readonly seeds: readonly Uint8Array[];
  /** Makes one case from a seed (default: generic byte mutations). */
  readonly mutate?: (seed: Uint8Array, rng: Rng) => Uint8Array;
  readonly run: (bytes: Uint8Array) => unknown;
}

/** Counts per outcome: 'valid', a typed error class (LimitError with its limit), or 'crash'. */
export type Tally = Map<string, number>;

/** What a run found. */
export interface FuzzReport {
  readonly perTarget: Map<string, { cases: number; outcomes: Tally; slowestMs: number; messages: Tally }>;
  readonly crashes: { target: string; kind: string; message: string; input: Uint8Array }[];
  readonly cases: number;
  readonly peakRssGrowth: number;
}

/** A seeded PRNG (mulberry32). */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

const INTERESTING32 = [
  0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];
// Opcodes and fragments a pickle mutation inserts.
const PICKLE_BITS = [
  '(',
  ')',
  ']',
  '}',
  'a',
  'e',
  's',
  'u',
  't',
  'l',
  'd',
  '0',
  '1',
  '2',
  'N',
  '\x88',
  '\x89',
  'R',
  'b',
  'Q',
  '\x85',
  '\x86',
  '\x87',
  'h\x00',
  'q\x00',
  'j\xff\xff\xff\xff',
  'r\xff\xff\xff\xff',
  'K\x07',
  'M\xff\xff',
  'J\xff\xff\xff\x7f',
  '\x8a\x09',
  '\x8b\xff\xff\x00\x00',
  'X\xff\xff\xff\x7f',
  '\x8c\x05',
  'cos\nsystem\n',
  'c__builtin__\neval\n',
  'ctorch._utils\n_rebuild_tensor_v2\n',
  'ccollections\nOrderedDict\n',
  '\x93',
  '\x94',
  '\x81',
  '\x92',
  'I999999999999999999999\n',
  'F1e309\n',
  'Vabc\\u12\n',
  'P0\n',
  'g0\n',
  'p0\n',
  '\x95\x00\x00\x00\x00\x00\x00\x00\x00',
  '\x80\x05',
  '\x80\x07',
  '\x8f',
  '\x90',
  '\x91',
  '\x96\xff\x00\x00\x00\x00\x00\x00\x00',
  'C\x04',
  'B\x00\x00\x00\x80',
  '.',
].map((s) => Uint8Array.from(s, (c) => c.charCodeAt(0)));

/** A few random byte-level mutations of `seed`. */
export function mutateBytes(seed: Uint8Array, rng: Rng, extra: readonly Uint8Array[] = []): Uint8Array {
  let b: Uint8Array = seed.slice();
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const n = b.length;
    const at = n === 0 ? 0 : rng.int(n);
    switch (rng.int(extra.length > 0 ? 9 : 8)) {
      case 0:
        if (n > 0) b[at] = b[at]! ^ (1 << rng.int(8));
        break; // bit flip
      case 1:
        if (n > 0) b[at] = rng.pick([0, 1, 0x7f, 0x80, 0xff, rng.int(256)]);
        break;
      case 2: {
        // an interesting 32-bit value, either byte order
        if (n < 4) break;
        const p = rng.int(n - 3);
        new DataView(b.buffer, b.byteOffset).setUint32(p, rng.pick(INTERESTING32), rng.next() < 0.5);
        break;
      }
      case 3: {
        // a 64-bit value
        if (n < 8) break;
        const p = rng.int(n - 7);
        new DataView(b.buffer, b.byteOffset).setBigUint64(
          p,
          rng.pick([0n, 1n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, BigInt(n)]),
          rng.next() < 0.5,
        );
        break;
      }
      case 4:
        b = b.slice(0, rng.int(n + 1));
        break; // truncate
      case 5: {
        // delete a range
        const len = 1 + rng.int(Math.min(64, Math.max(1, n - at)));
        b = cat(b.subarray(0, at), b.subarray(at + len));
        break;
      }
      case 6: {
        // duplicate a range somewhere
        const len = 1 + rng.int(Math.min(256, Math.max(1, n - at)));
        const to = rng.int(n + 1);
        b = cat(b.subarray(0, to), b.slice(at, at + len), b.subarray(to));
        break;
      }
      case 7: {
        // random bytes inserted
        const ins = Uint8Array.from({ length: 1 + rng.int(8) }, () => rng.int(256));
        b = cat(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      default: {
        // a fragment from the target's dictionary
        const ins = rng.pick(extra);
        const count = rng.next() < 0.1 ? 1 + rng.int(2000) : 1;
        const rep = new Uint8Array(ins.length * count);
        for (let i = 0; i < count; i++) rep.set(ins, i * ins.length);
        b = cat(b.subarray(0, at), rep, b.subarray(at));
      }
    }
  }
  return b;
}

/** The mutated pickle of a checkpoint, zipped back with its other entries unchanged (so CRCs hold). */
function mutateCkptPickle(seed: Uint8Array, rng: Rng): Uint8Array {
  let entries: ReturnType<typeof listZip>;
  try {
    entries = listZip(seed);
  } catch {
    return mutateBytes(seed, rng);
  }
  const files = entries.map((e) => ({
    name: e.name,
    data: seed.subarray(e.dataOffset, e.dataOffset + e.compressedSize),
  }));
  const pkl = files.find((f) => f.name.endsWith('data.pkl'));
  if (pkl === undefined || entries.some((e) => e.method !== 0)) return mutateBytes(seed, rng);
  pkl.data = mutateBytes(pkl.data, rng, PICKLE_BITS);
  if (rng.next() < 0.2) {
    // Also resize a storage entry.
    const s = rng.pick(files);
    if (s !== pkl) s.data = s.data.subarray(0, rng.int(s.data.length + 1));
  }
  return writeZip(files);
}

/** The mutated JSON header of a safetensors file, its length prefix fixed. */
function mutateSafetensorsHeader(seed: Uint8Array, rng: Rng): Uint8Array {
  if (seed.length < 8) return mutateBytes(seed, rng);
  const n = Number(new DataView(seed.buffer, seed.byteOffset).getBigUint64(0, true));
  if (8 + n > seed.length) return mutateBytes(seed, rng);
  let text = new TextDecoder().decode(seed.subarray(8, 8 + n));
  const rounds = 1 + rng.int(3);
  for (let r = 0; r < rounds; r++) {
    const nums = [...text.matchAll(/\d+/g)];
    const m = nums.length > 0 ? rng.pick(nums) : undefined;
    const choice = rng.int(6);
    if (choice <= 2 && m !== undefined && m.index !== undefined) {
      const v = rng.pick([
        '0',
        '1',
        '3',
        '-1',
        '1e400',
        '4294967296',
        '9007199254740993',
        '1.5',
        String(Number(m[0]) + 1),
        String(2 ** 40),
        'null',
        '"x"',
        '[]',
      ]);
      text = text.slice(0, m.index) + v + text.slice(m.index + m[0].length);
    } else if (choice === 3) {
      text = text.replace(
        rng.pick(['"F32"', '"F64"', '"I64"', '"BOOL"', '"I32"', '"F16"']),
        rng.pick(['"BF16"', '"U8"', '"C64"', '"I8"', '"F64"', '1']),
      );
    } else if (choice === 4) {
      const at = rng.int(text.length + 1);
      text =
        text.slice(0, at) +
        rng.pick(['[', ']', '{', '}', ',', '"', ':', '"__metadata__":{"a":1},', '"__proto__":', '\\u0000']) +
        text.slice(at);
    } else {
      text = text.replace(
        '"shape":[',
        `"shape":[${rng.pick(['0,', '1,', '2,', '4294967295,', '0,9007199254740991,'])}`,
      );
    }
  }
  const data = seed.subarray(8 + n);
  return safetensorsFile(null, rng.next() < 0.2 ? data.subarray(0, rng.int(data.length + 1)) : data, text);
}

/** The readers, each with its seeds. `backend` receives loaded tensors. */
export function targets(seeds: ReadonlyMap<string, readonly Uint8Array[]>, backend: Backend): Target[] {
  const of = (k: string): readonly Uint8Array[] => seeds.get(k) ?? [];
  return [
    { name: 'idx', seeds: of('idx'), run: (b) => parseIdx(b) },
    { name: 'gzip', seeds: of('gzip'), run: (b) => gunzip(b, 'gzip', FUZZ_LIMITS) },
    { name: 'zip', seeds: of('zip'), run: (b) => readZip(b, FUZZ_LIMITS) },
    {
      name: 'pickle',
      seeds: of('pickle'),
      mutate: (s, rng) => mutateBytes(s, rng, PICKLE_BITS),
      run: (b) => unpickle(b),
    },
    { name: 'torch-ckpt', seeds: of('torch-ckpt'), run: (b) => loadTorch(b, { backend, ...FUZZ_LIMITS }) },
    {
      name: 'torch-ckpt/pickle',
      seeds: of('torch-ckpt'),
      mutate: mutateCkptPickle,
      run: (b) => loadTorch(b, { backend, ...FUZZ_LIMITS }),
    },
    { name: 'safetensors', seeds: of('safetensors'), run: (b) => loadSafetensors(b, { backend }) },
    {
      name: 'safetensors/header',
      seeds: of('safetensors'),
      mutate: mutateSafetensorsHeader,
      run: (b) => loadSafetensors(b, { backend }),
    },
  ];
}

/** The outcome class of a thrown value; undefined for a crash. */
export function typedKind(e: unknown): string | undefined {
  if (e instanceof LimitError) return `LimitError(${e.limit})`;
  if (e instanceof LightningError) return e.constructor.name;
  return undefined;
}

/** Options of {@link fuzz}. */
export interface FuzzOptions {
  /** Random cases per target (crafted attacks and truncations come on top). */
  readonly casesPerTarget?: number;
  /** Stop starting cases after this many ms in all (default: no bound). */
  readonly durationMs?: number;
  readonly seed?: number;
  /** A case slower than this is a crash (default 5000 ms). */
  readonly caseMs?: number;
  /** Truncate every seed of at most this many bytes at every length (default 0: none). */
  readonly truncateUpTo?: number;
  /** Run the crafted attacks (default true). */
  readonly attacks?: boolean;
  /** For memory reporting; omitted where there is no process. */
  readonly rss?: () => number;
  readonly now?: () => number;
}

const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).join(',');

/**
 * Runs cases against every target and tallies outcomes.
 * @example const report = await fuzz(targets(seeds, backend), { casesPerTarget: 1000 });
 */
export async function fuzz(list: readonly Target[], options: FuzzOptions = {}): Promise<FuzzReport> {
  const rng = new Rng(options.seed ?? 1);
  const now = options.now ?? ((): number => performance.now());
  const caseMs = options.caseMs ?? 5000;
  const start = now();
  const rss0 = options.rss?.() ?? 0;
  let peak = 0;
  const perTarget: FuzzReport['perTarget'] = new Map();
  const crashes: FuzzReport['crashes'] = [];
  let cases = 0;
  const one = async (t: Target, input: Uint8Array): Promise<void> => {
    const stats = perTarget.get(t.name) ?? {
      cases: 0,
      outcomes: new Map<string, number>(),
      slowestMs: 0,
      messages: new Map<string, number>(),
    };
    perTarget.set(t.name, stats);
    const t0 = now();
    let kind: string;
    let message = '';
    try {
      await t.run(input);
      kind = 'valid';
    } catch (e) {
      kind = typedKind(e) ?? `crash: ${e instanceof Error ? e.constructor.name : typeof e}`;
      message = e instanceof Error ? e.message : String(e);
    }
    const ms = now() - t0;
    stats.slowestMs = Math.max(stats.slowestMs, ms);
    if (ms > caseMs && !kind.startsWith('crash')) {
      kind = 'crash: too slow';
      message = `${ms.toFixed(0)} ms`;
    }
    if (
      Object.getOwnPropertyNames(Object.prototype).join(',') !== PROTO_KEYS ||
      ({} as Record<string, unknown>)['polluted'] !== undefined
    ) {
      kind = 'crash: Object.prototype changed';
    }
    if (kind.startsWith('crash')) crashes.push({ target: t.name, kind, message: message.slice(0, 500), input });
    stats.cases++;
    stats.outcomes.set(kind, (stats.outcomes.get(kind) ?? 0) + 1);
    // What went wrong, without the case's numbers: the message up to its ';'.
    const what =
      message === ''
        ? 'valid'
        : message
            .split(';')[0]!
            .replace(/\d+/g, 'N')
            .replace(/'[^']*'/g, "'…'")
            .slice(0, 80);
    stats.messages.set(what, (stats.messages.get(what) ?? 0) + 1);
    cases++;
    if (options.rss !== undefined && (cases & 63) === 0) peak = Math.max(peak, options.rss() - rss0);
  };
  const over = (): boolean => options.durationMs !== undefined && now() - start > options.durationMs;

  if (options.attacks !== false) {
    for (const a of attacks()) {
      for (const t of list)
        if (t.name === a.target || (a.target === 'torch-ckpt' && t.name === 'torch-ckpt')) await one(t, a.bytes);
    }
  }
  const limit = options.truncateUpTo ?? 0;
  for (const t of list) {
    for (const s of t.seeds) {
      if (s.length > limit) continue;
      for (let cut = 0; cut < s.length; cut++) await one(t, s.subarray(0, cut));
    }
  }
  const per = options.casesPerTarget ?? 100;
  for (let i = 0; i < per && !over(); i++) {
    for (const t of list) {
      if (t.seeds.length === 0) continue;
      const seed = rng.pick(t.seeds);
      await one(t, t.mutate === undefined ? mutateBytes(seed, rng) : t.mutate(seed, rng));
    }
  }
  if (options.rss !== undefined) peak = Math.max(peak, options.rss() - rss0);
  return { perTarget, crashes, cases, peakRssGrowth: peak };
}

/** The report as text: per target, cases and outcome counts. */
export function formatReport(r: FuzzReport, messages = 0): string {
  const lines = [`${r.cases} cases`];
  for (const [name, s] of r.perTarget) {
    const outcomes = [...s.outcomes]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    lines.push(
      `  ${name.padEnd(20)} ${String(s.cases).padStart(7)} cases (slowest ${s.slowestMs.toFixed(0)} ms): ${outcomes}`,
    );
    const top = [...s.messages].sort((a, b) => b[1] - a[1]).slice(0, messages);
    for (const [m, n] of top) lines.push(`      ${String(n).padStart(7)}  ${m}`);
  }
  lines.push(`  crashes: ${r.crashes.length}`);
  for (const c of r.crashes.slice(0, 20)) lines.push(`    ${c.target} ${c.kind}: ${c.message}`);
  return lines.join('\n');
}

/** Seeds grouped by target, from (file name, bytes) pairs: by extension. */
export function groupSeeds(files: readonly (readonly [string, Uint8Array])[]): Map<string, Uint8Array[]> {
  const by = new Map<string, Uint8Array[]>();
  const put = (k: string, b: Uint8Array): void => {
    by.set(k, [...(by.get(k) ?? []), b]);
  };
  for (const [name, b] of files) {
    if (name.endsWith('.idx')) put('idx', b);
    else if (name.endsWith('.gz')) put('gzip', b);
    else if (name.endsWith('.pkl')) put('pickle', b);
    else if (name.endsWith('.safetensors')) put('safetensors', b);
    else if (name.endsWith('.ckpt') || name.endsWith('.pt')) {
      put('torch-ckpt', b);
      put('zip', b);
    } else if (name.endsWith('.zip')) put('zip', b);
  }
  return by;
}
