/**
 * @module random — one seeded, counter-based generator (Philox4x32-10).
 *
 * Every random number in lightning-ts (initialisation, dropout, shuffling)
 * comes from a `Generator`. Values are produced in TypeScript with integer
 * arithmetic and IEEE float64 math, so the stream is the same in every
 * runtime and on every backend.
 */
import { ValueError } from './errors.ts';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the unsigned 64-bit product a*b. */
function mulhi(a: number, b: number): number {
  const aLo = a & 0xffff,
    aHi = a >>> 16;
  const bLo = b & 0xffff,
    bHi = b >>> 16;
  const lo = aLo * bLo;
  const mid1 = aHi * bLo;
  const mid2 = aLo * bHi;
  const carry = ((lo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (aHi * bHi + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}

/**
 * One Philox4x32-10 block: 4 counter words and 2 key words → 4 random words.
 * Matches the Random123 reference (Salmon et al., SC'11).
 */
export function philox4x32(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
  out: Uint32Array,
): void {
  let c0 = counter[0] >>> 0,
    c1 = counter[1] >>> 0,
    c2 = counter[2] >>> 0,
    c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0,
    k1 = key[1] >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, c0),
      lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2),
      lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/**
 * {@link philox4x32} for counter `[c0, c1, 0, 0]` and key `[k0, k1]`, written to
 * `out[at..at+3]`: the same rounds with the multiplier halves as constants, no tuples.
 */
function philoxBlock(c0: number, c1: number, k0: number, k1: number, out: Uint32Array, at: number): void {
  let c2 = 0,
    c3 = 0;
  for (let round = 0; round < 10; round++) {
    // mulhi(M0, c0) and mulhi(M1, c2), with M0 = 0xd2511f53 and M1 = 0xcd9e8d57 split in 16-bit halves.
    const a0Lo = c0 & 0xffff,
      a0Hi = c0 >>> 16;
    const lo0 = 0x1f53 * a0Lo,
      m0a = 0xd251 * a0Lo,
      m0b = 0x1f53 * a0Hi;
    const hi0 =
      (0xd251 * a0Hi + (m0a >>> 16) + (m0b >>> 16) + (((lo0 >>> 16) + (m0a & 0xffff) + (m0b & 0xffff)) >>> 16)) >>> 0;
    const a2Lo = c2 & 0xffff,
      a2Hi = c2 >>> 16;
    const lo2 = 0x8d57 * a2Lo,
      m2a = 0xcd9e * a2Lo,
      m2b = 0x8d57 * a2Hi;
    const hi2 =
      (0xcd9e * a2Hi + (m2a >>> 16) + (m2b >>> 16) + (((lo2 >>> 16) + (m2a & 0xffff) + (m2b & 0xffff)) >>> 16)) >>> 0;
    const p0 = Math.imul(M0, c0) >>> 0;
    const p2 = Math.imul(M1, c2) >>> 0;
    c0 = (hi2 ^ c1 ^ k0) >>> 0;
    c1 = p2;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = p0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[at] = c0;
  out[at + 1] = c1;
  out[at + 2] = c2;
  out[at + 3] = c3;
}

/**
 * A faster source of the same Philox words: `blocks` blocks for counters `offset`,
 * `offset + 1`, … (a block index below 2^53) under key `[k0, k1]`, into
 * `out[0 .. 4·blocks)`. The wasm backend provides one (integer arithmetic, so the words
 * equal {@link philox4x32}'s); `init` installs it.
 */
export type BulkPhilox = (out: Uint32Array, blocks: number, offset: number, k0: number, k1: number) => void;

let bulkPhilox: BulkPhilox | undefined;

/** Draws of at least this many blocks go to the bulk source. */
const BULK_MIN_BLOCKS = 64;

/**
 * Installs (or, with `undefined`, removes) the bulk Philox source. Only speed changes:
 * the stream is the same words either way.
 * @example setBulkPhilox((out, blocks, offset, k0, k1) => wasm.philoxFill(out, blocks, offset, k0, k1));
 */
export function setBulkPhilox(source: BulkPhilox | undefined): void {
  bulkPhilox = source;
}

/** A generator's full state: seed and how many 4-word blocks it has used. */
export interface GeneratorState {
  readonly seed: number;
  readonly offset: number;
}

/**
 * A seeded stream of random numbers. The key is the seed; the counter is the
 * block offset, so `setState` jumps anywhere in O(1).
 * @example const g = new Generator(42); g.uniform(3) // Float64Array of 3 values in [0, 1)
 */
export class Generator {
  #seed = 0;
  #offset = 0;
  #block = new Uint32Array(4);

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Restarts the stream from `seed` (an integer in [0, 2^53)). */
  manualSeed(seed: number): this {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new ValueError(`manualSeed: invalid seed; expected an integer in [0, 2^53), got ${seed}`);
    }
    this.#seed = seed;
    this.#offset = 0;
    return this;
  }

  /** The seed the stream started from. */
  initialSeed(): number {
    return this.#seed;
  }

  getState(): GeneratorState {
    return { seed: this.#seed, offset: this.#offset };
  }

  setState(state: GeneratorState): void {
    this.manualSeed(state.seed);
    if (!Number.isSafeInteger(state.offset) || state.offset < 0) {
      throw new ValueError(`Generator.setState: invalid offset; expected a non-negative integer, got ${state.offset}`);
    }
    this.#offset = state.offset;
  }

  /** `n` uniformly distributed unsigned 32-bit integers. */
  uint32(n: number): Uint32Array {
    const out = new Uint32Array(n);
    const k0 = this.#seed >>> 0,
      k1 = Math.floor(this.#seed / 0x100000000) >>> 0;
    const block = this.#block;
    const full = n & ~3;
    let off = this.#offset;
    if (bulkPhilox !== undefined && full >= BULK_MIN_BLOCKS * 4) {
      bulkPhilox(out, full / 4, off, k0, k1);
      off += full / 4;
    }
    // Whole blocks straight into `out`: initialisation draws ~10^5 numbers at start-up,
    // where a call per block (counter tuples, copies) cost more than the rounds.
    for (let i = (off - this.#offset) * 4; i < full; i += 4, off++)
      philoxBlock(off >>> 0, Math.floor(off / 0x100000000) >>> 0, k0, k1, out, i);
    if (full < n) {
      philoxBlock(off >>> 0, Math.floor(off / 0x100000000) >>> 0, k0, k1, block, 0);
      off++;
      for (let j = 0; full + j < n; j++) out[full + j] = block[j]!;
    }
    this.#offset = off;
    return out;
  }

  /** `n` floats uniform in [0, 1) with 24 random bits each (exact in float32). */
  uniform(n: number): Float64Array {
    const bits = this.uint32(n);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = (bits[i]! >>> 8) * 5.9604644775390625e-8;
    return out;
  }

  /** `n` standard normal values by the Box–Muller transform on pairs of uniforms. */
  normal(n: number): Float64Array {
    const u = this.uniform(n + (n & 1));
    const out = new Float64Array(n);
    for (let i = 0; i < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - u[i]!));
      const theta = 2 * Math.PI * u[i + 1]!;
      out[i] = r * Math.cos(theta);
      if (i + 1 < n) out[i + 1] = r * Math.sin(theta);
    }
    return out;
  }

  /** `n` integers uniform in [low, high). */
  integers(n: number, low: number, high: number): Float64Array {
    if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
      throw new ValueError(`randint: invalid range; expected integers low < high, got [${low}, ${high})`);
    }
    const bits = this.uint32(n);
    const range = high - low;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = low + Math.floor((bits[i]! / 4294967296) * range);
    return out;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    const bits = this.uint32(n);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor((bits[i]! / 4294967296) * (i + 1));
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }
}

/** The generator that creation functions use unless given another. */
export const defaultGenerator = new Generator(0);

/**
 * Seeds the default generator, as torch.manual_seed.
 * @example manualSeed(42); randn([2, 2])
 */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}
