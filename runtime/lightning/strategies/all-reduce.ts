/**
 * @module lightning/strategies/all-reduce — the collectives of a data-parallel run over one
 * SharedArrayBuffer: barrier, all-reduce (mean), broadcast from rank 0, and "any rank says
 * stop", with an abort flag that wakes every waiting rank.
 *
 * Layout of the buffer: an Int32 header (barrier counter and generation, the abort flag and
 * the first failure's message, a double-buffered flag per rank), then `worldSize` input
 * slots of `capacity` float32 values and one result slot.
 *
 * The reduction order is fixed, so two runs of the same training are bitwise identical: the
 * result is cut into `worldSize` chunks, rank r sums chunk r as `((slot0 + slot1) + slot2) ...`
 * in rank order and divides by `worldSize` (torch's DDP averages the same way: a sum, then the
 * division by the world size); every rank then copies the whole result.
 */
import { DistributedError } from '../errors.ts';

const ARRIVE = 0;
const GEN = 1;
const ABORT = 2;
const CLAIM = 3;
const MSG_LEN = 4;
const FLAGS = 16;
const MAX_RANKS = 48;
const HEADER_INTS = FLAGS + 2 * MAX_RANKS;
const MSG_BYTES = 2048;
/** How many times a waiting rank polls the generation before it yields to the event loop. */
const SPINS = 4000;
/** A waiting rank wakes at least this often (ms) to look at the abort flag. */
const WAKE_MS = 250;

/** The bytes a shared buffer needs for `worldSize` ranks and `capacity` float32 values per slot. */
export function sharedBytes(worldSize: number, capacity: number): number {
  return HEADER_INTS * 4 + MSG_BYTES + (worldSize + 1) * capacity * 4;
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

/**
 * One rank's view of a shared buffer.
 * @example
 * const c = new SharedCollective(sab, rank, 2, n);
 * c.input().set(grads); await c.allReduceMean(grads.length); grads.set(c.output().subarray(0, grads.length));
 */
export class SharedCollective {
  readonly rank: number;
  readonly worldSize: number;
  readonly capacity: number;
  readonly #head: Int32Array;
  readonly #msg: Uint8Array;
  readonly #slots: Float32Array[];
  readonly #result: Float32Array;
  #flagParity = 0;

  constructor(shared: SharedArrayBuffer, rank: number, worldSize: number, capacity: number) {
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
    this.#slots = Array.from(
      { length: worldSize },
      (_, k) => new Float32Array(shared, base + k * capacity * 4, capacity),
    );
    this.#result = new Float32Array(shared, base + worldSize * capacity * 4, capacity);
  }

  /** This rank's input slot: write the values to reduce here. */
  input(): Float32Array {
    return this.#slots[this.rank]!;
  }

  /** The result slot (the mean after {@link allReduceMean}, rank 0's values after {@link broadcast}). */
  output(): Float32Array {
    return this.#result;
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
    if (f === null) return;
    throw new DistributedError(
      `DDP: rank ${f.rank} failed, so the run stopped on rank ${this.rank}; expected every rank to finish, got: ${f.message}`,
      { rank: f.rank },
    );
  }

  /** Waits until every rank has arrived (or throws a DistributedError when a rank failed). */
  async barrier(): Promise<void> {
    const h = this.#head;
    this.#throwIfAborted();
    const gen = Atomics.load(h, GEN);
    if (Atomics.add(h, ARRIVE, 1) === this.worldSize - 1) {
      Atomics.store(h, ARRIVE, 0);
      Atomics.add(h, GEN, 1);
      Atomics.notify(h, GEN);
      return;
    }
    for (let i = 0; i < SPINS; i++) if (Atomics.load(h, GEN) !== gen) return;
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

  /**
   * The mean over ranks of the first `length` values of every rank's {@link input}, into
   * {@link output} on every rank, in the fixed order the module doc describes.
   */
  async allReduceMean(length: number): Promise<void> {
    this.#checkLength(length);
    await this.barrier();
    const world = this.worldSize;
    const chunk = Math.ceil(length / world);
    const start = Math.min(length, this.rank * chunk);
    const end = Math.min(length, start + chunk);
    const out = this.#result;
    const s0 = this.#slots[0]!;
    out.set(s0.subarray(start, end), start);
    for (let k = 1; k < world; k++) {
      const s = this.#slots[k]!;
      for (let i = start; i < end; i++) out[i]! += s[i]!;
    }
    for (let i = start; i < end; i++) out[i]! /= world;
    await this.barrier();
  }

  /**
   * Rank 0's first `length` values of {@link input} into {@link output} on every rank. The first
   * barrier lets every rank finish reading the previous result before rank 0 overwrites it.
   */
  async broadcast(length: number): Promise<void> {
    this.#checkLength(length);
    await this.barrier();
    if (this.rank === 0) this.#result.set(this.#slots[0]!.subarray(0, length));
    await this.barrier();
  }

  /** Whether any rank passed true (one barrier; flags are double-buffered). */
  async anyTrue(flag: boolean): Promise<boolean> {
    const base = FLAGS + this.#flagParity * MAX_RANKS;
    this.#flagParity ^= 1;
    Atomics.store(this.#head, base + this.rank, flag ? 1 : 0);
    await this.barrier();
    for (let k = 0; k < this.worldSize; k++) if (Atomics.load(this.#head, base + k) !== 0) return true;
    return false;
  }

  #checkLength(length: number): void {
    if (length > this.capacity) {
      throw new DistributedError(
        `DDP: collective too large; expected at most ${this.capacity} values (the shared buffer rank 0 sized for this model), got ${length} on rank ${this.rank} (do the ranks build the same model?)`,
        { rank: this.rank },
      );
    }
  }
}
