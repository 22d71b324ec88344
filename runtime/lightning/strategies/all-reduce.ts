/**
 * @module lightning/strategies/all-reduce — the collectives of a data-parallel run over one
 * SharedArrayBuffer: barrier, all-reduce (mean), broadcast from rank 0, and "any rank says
 * stop", with an abort flag that wakes every waiting rank.
 *
 * Layout of the buffer: an Int32 header (barrier counter and generation, the abort flag and
 * the first failure's message, a double-buffered flag per rank, and a double-buffered tag per
 * rank naming the kind of collective it is in, so that ranks that call different collectives at
 * the same point fail with a DistributedError instead of pairing up), then two sets (even and odd
 * collectives) of `worldSize` input slots of `capacity` float32 values.
 *
 * One barrier per collective: each rank writes its input slot of the current set, waits for
 * every rank, then reads every slot of that set into its own (unshared) output. The next
 * collective writes the other set, and the one after that can overwrite this set only once
 * every rank has passed the next barrier, that is, once every rank has finished reading.
 *
 * The reduction order is fixed, so two runs of the same training are bitwise identical, and
 * every rank computes the very same values: `((slot0 + slot1) + slot2) ...` in rank order, each
 * sum rounded to float32, then divided by `worldSize` (torch's DDP averages the same way: a sum,
 * then the division by the world size).
 *
 * Waiting: a rank spins briefly on the generation, then sleeps. Ranks that may block their
 * thread (`block: true`, the workers: `Atomics.wait` is allowed there) sleep in `Atomics.wait`,
 * which wakes in microseconds; rank 0 keeps its event loop running (it must see a worker's
 * exit) and sleeps in `Atomics.waitAsync`.
 */
import { DistributedError, NotAvailableYetError } from '../errors.ts';

const ARRIVE = 0;
const GEN = 1;
const ABORT = 2;
const CLAIM = 3;
const MSG_LEN = 4;
const FLAGS = 16;
const MAX_RANKS = 48;
/** Each rank's kind of collective, double-buffered: ranks in different collectives fail, not pair up. */
const TAGS = FLAGS + 2 * MAX_RANKS;
const HEADER_INTS = TAGS + 2 * MAX_RANKS;
const BARRIER = 1;
const MEAN = 2;
const BROADCAST = 3;
const BITS = 4;
const SUM = 5;
const KIND_NAMES = ['none', 'barrier', 'mean', 'broadcast', 'bits', 'sum'];
const MSG_BYTES = 2048;
/**
 * How long (ms) a waiting rank polls the generation before it sleeps: the ranks of a step reach
 * the all-reduce within a fraction of a millisecond of each other, and a wake-up from
 * `Atomics.waitAsync` goes through the event loop (0.1–0.5 ms on a busy machine).
 */
const SPIN_MS = 0.2;
/** A waiting rank wakes at least this often (ms) to look at the abort flag. */
const WAKE_MS = 250;

/** The bytes a shared buffer needs for `worldSize` ranks and `capacity` float32 values per slot. */
export function sharedBytes(worldSize: number, capacity: number): number {
  return HEADER_INTS * 4 + MSG_BYTES + 2 * worldSize * capacity * 4;
}

/** Polls `h[GEN]` for up to SPIN_MS; whether it moved on from `gen`. */
function spin(h: Int32Array, gen: number): boolean {
  const until = performance.now() + SPIN_MS;
  do {
    for (let i = 0; i < 256; i++) if (Atomics.load(h, GEN) !== gen) return true;
  } while (performance.now() < until);
  return false;
}

/** The largest world a shared buffer holds flags for. */
export const MAX_WORLD_SIZE = MAX_RANKS;

type WaitAsync = (
  a: Int32Array,
  i: number,
  v: number,
  t?: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };

const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

/** How a rank waits at a barrier inside the collectives. */
export interface CollectiveOptions {
  /**
   * Sleep in `Atomics.wait` (blocking the thread) inside {@link SharedCollective.allReduceMean},
   * {@link SharedCollective.broadcast} and {@link SharedCollective.anyTrue}. Default false.
   * Only for a worker rank whose event loop has nothing to answer during a collective.
   */
  readonly block?: boolean;
}

/**
 * Copies `src` into `dst` at `at` through byte views: V8 copies float32 between a
 * SharedArrayBuffer and an ordinary buffer element by element, ~7× slower than its memcpy for bytes.
 */
export function copyFloats(dst: Float32Array, at: number, src: Float32Array): void {
  new Uint8Array(dst.buffer, dst.byteOffset + at * 4, src.length * 4).set(
    new Uint8Array(src.buffer, src.byteOffset, src.length * 4),
  );
}

/**
 * The mean over `slots` of their first `n` values into `out`, in rank order with a float32
 * rounding after every sum (as a float32 tensor sum would), then a division by the world size.
 */
export function meanInto(out: Float32Array, slots: readonly Float32Array[], n: number): void {
  const world = slots.length;
  if (world === 2) {
    const a = slots[0]!;
    const b = slots[1]!;
    // fround(a + b) / 2 is exact in float64, so the store rounds once, as `(a + b) / 2` in float32
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      out[i] = Math.fround(a[i]! + b[i]!) * 0.5;
      out[i + 1] = Math.fround(a[i + 1]! + b[i + 1]!) * 0.5;
      out[i + 2] = Math.fround(a[i + 2]! + b[i + 2]!) * 0.5;
      out[i + 3] = Math.fround(a[i + 3]! + b[i + 3]!) * 0.5;
    }
    for (; i < n; i++) out[i] = Math.fround(a[i]! + b[i]!) * 0.5;
    return;
  }
  sumInto(out, slots, n);
  if (world > 1) for (let i = 0; i < n; i++) out[i]! /= world;
}

/**
 * The sum over `slots` of their first `n` values into `out`, in rank order with a float32
 * rounding after every sum: {@link meanInto} without the division.
 */
function sumInto(out: Float32Array, slots: readonly Float32Array[], n: number): void {
  copyFloats(out, 0, slots[0]!.subarray(0, n));
  // out is float32, so every `+=` rounds to float32 as it is stored
  for (let k = 1; k < slots.length; k++) {
    const s = slots[k]!;
    for (let i = 0; i < n; i++) out[i]! += s[i]!;
  }
}

let blockable: boolean | undefined;

/** Whether this thread may sleep in `Atomics.wait` (a page's main thread may not). */
export function canBlock(): boolean {
  if (blockable === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      blockable = true;
    } catch {
      blockable = false;
    }
  }
  return blockable;
}

/** The error every rank of a failed run throws: which rank failed, and why. */
export function failedRunError(rank: number, failure: { rank: number; message: string }): DistributedError {
  return new DistributedError(
    `DDP: rank ${failure.rank} failed, so the run stopped on rank ${rank}; expected every rank to finish, got: ${failure.message}`,
    { rank: failure.rank },
  );
}

/** Throws when a collective asks for more values than rank 0 sized its buffers for. */
export function checkCollectiveLength(rank: number, capacity: number, length: number, buffers: string): void {
  if (length <= capacity) return;
  throw new DistributedError(
    `DDP: collective too large; expected at most ${capacity} values (${buffers} rank 0 sized for this model), got ${length} on rank ${rank} (do the ranks build the same model?)`,
    { rank },
  );
}

/**
 * What a rank's collectives offer, whichever way the values travel: a SharedArrayBuffer
 * ({@link SharedCollective}) or transferred buffers (message-collective.ts).
 */
export interface Collective {
  readonly rank: number;
  readonly worldSize: number;
  readonly capacity: number;
  /** The first failure, once a rank has aborted the run: its rank and message. */
  readonly failure: { rank: number; message: string } | null;
  /** This rank's input slot for the next collective. */
  input(): Float32Array;
  /** This rank's result of the last collective, valid until the next one. */
  output(): Float32Array;
  /** Marks the run failed on behalf of `rank` and wakes every waiting rank; whether this call was the first. */
  abort(rank: number, message: string): boolean;
  /** Waits until every rank has arrived. */
  barrier(): Promise<void>;
  /** The mean over ranks of the first `length` values of every rank's input, into every rank's output. */
  allReduceMean(length: number): Promise<void>;
  /** Rank 0's first `length` input values into every rank's output. */
  broadcast(length: number): Promise<void>;
  /** The bitwise OR of every rank's `bits`. */
  anyBits(bits: number): Promise<number>;
  /** Lets go of what the collective holds (ports); the shared buffer needs nothing. */
  close(): void;
}

/**
 * One rank's view of a shared buffer.
 * @example
 * const c = new SharedCollective(sab, rank, 2, n);
 * c.input().set(grads); await c.allReduceMean(grads.length); grads.set(c.output().subarray(0, grads.length));
 */
export class SharedCollective implements Collective {
  readonly rank: number;
  readonly worldSize: number;
  readonly capacity: number;
  readonly #head: Int32Array;
  readonly #msg: Uint8Array;
  /** The two sets of input slots, [set][rank]. */
  readonly #sets: readonly (readonly Float32Array[])[];
  readonly #out: Float32Array;
  readonly #block: boolean;
  #set = 0;
  #flagParity = 0;
  #tagParity = 0;
  /** Where this rank's last collective wrote the ranks' tags. */
  #tagBase = TAGS;

  constructor(
    shared: SharedArrayBuffer,
    rank: number,
    worldSize: number,
    capacity: number,
    options: CollectiveOptions = {},
  ) {
    if (shared.byteLength < sharedBytes(worldSize, capacity)) {
      throw new DistributedError(
        `DDP: shared buffer too small; expected ${sharedBytes(worldSize, capacity)} bytes, got ${shared.byteLength}`,
      );
    }
    this.rank = rank;
    this.worldSize = worldSize;
    this.capacity = capacity;
    this.#head = new Int32Array(shared, 0, HEADER_INTS);
    this.#msg = new Uint8Array(shared, HEADER_INTS * 4, MSG_BYTES);
    const base = HEADER_INTS * 4 + MSG_BYTES;
    this.#sets = [0, 1].map((set) =>
      Array.from(
        { length: worldSize },
        (_, k) => new Float32Array(shared, base + (set * worldSize + k) * capacity * 4, capacity),
      ),
    );
    this.#out = new Float32Array(capacity);
    this.#block = options.block ?? false;
  }

  /** This rank's input slot for the next collective: write the values to reduce here. */
  input(): Float32Array {
    return this.#sets[this.#set]![this.rank]!;
  }

  /**
   * This rank's result of the last collective (the mean after {@link allReduceMean}, rank 0's
   * values after {@link broadcast}); valid until the next collective.
   */
  output(): Float32Array {
    return this.#out;
  }

  /** The first failure, once a rank has aborted the run: its rank and message. */
  get failure(): { rank: number; message: string } | null {
    const a = Atomics.load(this.#head, ABORT);
    if (a === 0) return null;
    const n = Atomics.load(this.#head, MSG_LEN);
    return { rank: a - 1, message: new TextDecoder().decode(this.#msg.slice(0, n)) };
  }

  /**
   * Marks the run failed on behalf of `rank` and wakes every waiting rank; only the first
   * failure is kept. Returns whether this call was the first.
   */
  abort(rank: number, message: string): boolean {
    if (Atomics.compareExchange(this.#head, CLAIM, 0, 1) !== 0) return false;
    const bytes = new TextEncoder().encode(message).subarray(0, MSG_BYTES);
    this.#msg.set(bytes);
    Atomics.store(this.#head, MSG_LEN, bytes.length);
    Atomics.store(this.#head, ABORT, rank + 1);
    Atomics.notify(this.#head, GEN);
    return true;
  }

  #throwIfAborted(): void {
    const f = this.failure;
    if (f !== null) throw failedRunError(this.rank, f);
  }

  /**
   * Arrives at the barrier; returns the generation to wait out, or -1 when this rank was the
   * last to arrive (and released the others).
   */
  #arrive(kind: number): number {
    const h = this.#head;
    this.#throwIfAborted();
    this.#tagBase = TAGS + this.#tagParity * MAX_RANKS;
    this.#tagParity ^= 1;
    Atomics.store(h, this.#tagBase + this.rank, kind);
    const gen = Atomics.load(h, GEN);
    if (Atomics.add(h, ARRIVE, 1) === this.worldSize - 1) {
      Atomics.store(h, ARRIVE, 0);
      Atomics.add(h, GEN, 1);
      Atomics.notify(h, GEN);
      return -1;
    }
    return gen;
  }

  /** After the barrier: every rank's tag must be this rank's kind of collective. */
  #checkTags(kind: number): void {
    for (let k = 0; k < this.worldSize; k++) {
      const tag = Atomics.load(this.#head, this.#tagBase + k);
      if (tag === kind) continue;
      const message = `rank ${this.rank} is in a ${KIND_NAMES[kind]} collective where rank ${k} is in a ${KIND_NAMES[tag] ?? 'different'} one; expected every rank to call the same collectives in the same order (the same Trainer calls, hooks, syncDist values and BatchNorm layers on every rank)`;
      this.abort(this.rank, message);
      throw new DistributedError(`DDP: ${message}`, { rank: this.rank });
    }
  }

  /** Waits until every rank has arrived (or throws a DistributedError when a rank failed). */
  async barrier(kind: number = BARRIER): Promise<void> {
    const gen = this.#arrive(kind);
    const h = this.#head;
    if (gen >= 0 && !spin(h, gen)) {
      while (Atomics.load(h, GEN) === gen) {
        this.#throwIfAborted();
        if (waitAsync !== undefined) {
          const r = waitAsync(h, GEN, gen, WAKE_MS);
          if (r.async) await r.value;
        } else {
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      }
      this.#throwIfAborted();
    }
    this.#checkTags(kind);
  }

  /** The barrier of the collectives: blocks the thread when this rank may block. */
  async #sync(kind: number): Promise<void> {
    if (!this.#block) return this.barrier(kind);
    this.#barrierSync(kind);
  }

  /**
   * The mean over ranks of the first `length` values of every rank's {@link input}, into
   * {@link output} on every rank, in the fixed order the module doc describes.
   */
  async allReduceMean(length: number): Promise<void> {
    this.#checkLength(length);
    const slots = this.#sets[this.#set]!;
    this.#set ^= 1;
    await this.#sync(MEAN);
    meanInto(this.#out, slots, length);
  }

  /**
   * As {@link allReduceMean}, but the sum (no division), and synchronous: the thread sleeps in
   * `Atomics.wait` until every rank has arrived, for code that cannot await (SyncBatchNorm inside
   * forward and backward). It takes its turn in the same double-buffered sequence as the other
   * collectives, so they may be mixed freely as long as every rank calls the same ones in the
   * same order. Rank 0 blocks too, waking every WAKE_MS to look at the abort flag: a rank whose
   * run fails marks it, and so does a worker whose thread ends during a run where the host says
   * so (`WorkerRank.onExit`: Node), since rank 0 cannot hear a worker's exit event while it blocks.
   */
  allReduceSumSync(length: number): void {
    this.#checkLength(length);
    if (!canBlock()) {
      throw new NotAvailableYetError(
        `DDP: a synchronous collective is not available on this thread; expected a thread that may block in Atomics.wait (a worker, or Node's or Deno's main thread), got one that may not (a page's main thread)`,
      );
    }
    const slots = this.#sets[this.#set]!;
    this.#set ^= 1;
    this.#barrierSync(SUM);
    sumInto(this.#out, slots, length);
  }

  /** {@link allReduceSumSync} for a rank that awaits (the same turn, slots and order). */
  async allReduceSum(length: number): Promise<void> {
    this.#checkLength(length);
    const slots = this.#sets[this.#set]!;
    this.#set ^= 1;
    await this.#sync(SUM);
    sumInto(this.#out, slots, length);
  }

  /** The barrier, blocking the thread (on every rank, whatever `block` says). */
  #barrierSync(kind: number): void {
    const gen = this.#arrive(kind);
    const h = this.#head;
    if (gen >= 0 && !spin(h, gen)) {
      while (Atomics.load(h, GEN) === gen) {
        this.#throwIfAborted();
        Atomics.wait(h, GEN, gen, WAKE_MS);
      }
      this.#throwIfAborted();
    }
    this.#checkTags(kind);
  }

  /** Rank 0's first `length` values of {@link input} into {@link output} on every rank. */
  async broadcast(length: number): Promise<void> {
    this.#checkLength(length);
    const slot0 = this.#sets[this.#set]![0]!;
    this.#set ^= 1;
    await this.#sync(BROADCAST);
    copyFloats(this.#out, 0, slot0.subarray(0, length));
  }

  /** The bitwise OR of every rank's `bits` (one barrier; the flags are double-buffered). */
  async anyBits(bits: number): Promise<number> {
    const base = FLAGS + this.#flagParity * MAX_RANKS;
    this.#flagParity ^= 1;
    Atomics.store(this.#head, base + this.rank, bits | 0);
    await this.#sync(BITS);
    let out = 0;
    for (let k = 0; k < this.worldSize; k++) out |= Atomics.load(this.#head, base + k);
    return out;
  }

  close(): void {}

  /** Whether any rank passed true (one barrier). */
  async anyTrue(flag: boolean): Promise<boolean> {
    return (await this.anyBits(flag ? 1 : 0)) !== 0;
  }

  #checkLength(length: number): void {
    checkCollectiveLength(this.rank, this.capacity, length, 'the shared buffer');
  }
}
