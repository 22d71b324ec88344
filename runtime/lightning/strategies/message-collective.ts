/**
 * @module lightning/strategies/message-collective — the collectives of a data-parallel run by
 * transferred buffers, for a host without SharedArrayBuffer (a page that is not cross-origin
 * isolated): the same operations as {@link SharedCollective}, with the same results bit for bit.
 *
 * Rank 0 is the hub: every other rank has one MessagePort to it. In a collective, a rank posts
 * its values (a copy of its input, transferred) to rank 0; rank 0 waits for every rank's
 * message of that collective, reduces in rank order with the very function the shared buffer
 * uses ({@link meanInto}), and posts the result back to each rank. Each port delivers in order
 * and every rank calls the same collectives in the same order, so the n-th message on a port
 * belongs to the n-th collective; its number and kind travel with it and are checked.
 *
 * A failure travels as a message too: a rank that aborts tells rank 0, rank 0 tells the others,
 * and every rank's pending collective rejects with a DistributedError naming the failed rank.
 */
import { DistributedError } from '../errors.ts';
import { type Collective, checkCollectiveLength, copyFloats, failedRunError, meanInto } from './all-reduce.ts';

/** The part of a MessagePort this uses (Web-standard; Node's and Deno's ports have it too). */
export interface PortLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  start?(): void;
  close(): void;
}

type Kind = 'barrier' | 'mean' | 'broadcast' | 'bits';

/** A collective's message, in either direction. */
interface CollectiveMessage {
  readonly seq: number;
  readonly kind: Kind;
  readonly data?: Float32Array;
  readonly bits?: number;
}

/** A failure, in either direction. */
interface AbortMessage {
  readonly abort: { rank: number; message: string };
}

function isAbort(m: unknown): m is AbortMessage {
  return typeof m === 'object' && m !== null && 'abort' in m;
}

/** One port's messages not yet taken, and the collective waiting for the next one. */
class Inbox {
  readonly #queue: CollectiveMessage[] = [];
  #waiter: { resolve: (m: CollectiveMessage) => void; reject: (e: unknown) => void } | null = null;

  push(m: CollectiveMessage): void {
    const w = this.#waiter;
    if (w !== null) {
      this.#waiter = null;
      w.resolve(m);
    } else this.#queue.push(m);
  }

  next(): Promise<CollectiveMessage> {
    const m = this.#queue.shift();
    if (m !== undefined) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  fail(error: unknown): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.reject(error);
  }
}

/**
 * One rank's collectives over MessagePorts: rank 0 holds a port per other rank (`ports[r]` for
 * rank r, `ports[0]` unused), any other rank holds its one port to rank 0 (`ports[0]`).
 * @example
 * const { port1, port2 } = new MessageChannel();
 * const hub = new MessageCollective(0, 2, n, [null, port1]); const leaf = new MessageCollective(1, 2, n, [port2]);
 */
export class MessageCollective implements Collective {
  readonly rank: number;
  readonly worldSize: number;
  readonly capacity: number;
  readonly #ports: readonly (PortLike | null)[];
  readonly #inboxes: readonly (Inbox | null)[];
  readonly #in: Float32Array;
  readonly #out: Float32Array;
  #seq = 0;
  #failure: { rank: number; message: string } | null = null;

  constructor(rank: number, worldSize: number, capacity: number, ports: readonly (PortLike | null)[]) {
    const expected = rank === 0 ? worldSize : 1;
    if (ports.length !== expected || ports.some((p, k) => (p === null) !== (rank === 0 && k === 0))) {
      throw new DistributedError(
        `DDP: message collective on rank ${rank} needs ${rank === 0 ? `a port for each of ranks 1..${worldSize - 1}` : 'one port to rank 0'}; got ${ports.length} ports`,
        { rank },
      );
    }
    this.rank = rank;
    this.worldSize = worldSize;
    this.capacity = capacity;
    this.#ports = ports;
    this.#in = new Float32Array(capacity);
    this.#out = new Float32Array(capacity);
    this.#inboxes = ports.map((port, k) => {
      if (port === null) return null;
      const inbox = new Inbox();
      port.addEventListener('message', (event) => this.#receive(k, inbox, event.data));
      port.start?.();
      return inbox;
    });
  }

  input(): Float32Array {
    return this.#in;
  }

  output(): Float32Array {
    return this.#out;
  }

  get failure(): { rank: number; message: string } | null {
    return this.#failure;
  }

  #receive(from: number, inbox: Inbox, data: unknown): void {
    if (isAbort(data)) {
      this.#fail(data.abort, from);
      return;
    }
    inbox.push(data as CollectiveMessage);
  }

  /** Records the first failure, wakes this rank's waits and passes it on (rank 0 to every other port). */
  #fail(f: { rank: number; message: string }, from: number): boolean {
    if (this.#failure !== null) return false;
    this.#failure = f;
    const error = this.#error();
    for (const inbox of this.#inboxes) inbox?.fail(error);
    this.#ports.forEach((port, k) => {
      if (port === null || k === from) return;
      try {
        port.postMessage({ abort: f } satisfies AbortMessage);
      } catch {
        /* a port whose rank has gone */
      }
    });
    return true;
  }

  abort(rank: number, message: string): boolean {
    return this.#fail({ rank, message }, -1);
  }

  #error(): DistributedError {
    return failedRunError(this.rank, this.#failure!);
  }

  #check(length: number): void {
    if (this.#failure !== null) throw this.#error();
    checkCollectiveLength(this.rank, this.capacity, length, 'the buffers');
  }

  /** The next message on port `k`, checked against the collective this rank is in. */
  async #take(k: number, seq: number, kind: Kind): Promise<CollectiveMessage> {
    const m = await this.#inboxes[k]!.next();
    if (m.seq !== seq || m.kind !== kind) {
      const message = `rank ${this.rank} is in collective ${seq} (${kind}) but rank ${k} sent collective ${m.seq} (${m.kind}); expected every rank to call the same collectives in the same order`;
      this.abort(this.rank, message);
      throw new DistributedError(`DDP: ${message}`, { rank: this.rank });
    }
    return m;
  }

  #post(k: number, m: CollectiveMessage): void {
    this.#ports[k]!.postMessage(m, m.data === undefined ? [] : [m.data.buffer]);
  }

  /**
   * One round: each other rank posts `mine`, rank 0 combines every rank's message with `hub`
   * and posts what it returns to each rank. Resolves to what this rank receives.
   */
  async #round(
    kind: Kind,
    mine: () => CollectiveMessage,
    hub: (messages: CollectiveMessage[]) => CollectiveMessage,
  ): Promise<CollectiveMessage> {
    const seq = ++this.#seq;
    if (this.rank !== 0) {
      this.#post(0, mine());
      return this.#take(0, seq, kind);
    }
    const messages = [mine()];
    for (let k = 1; k < this.worldSize; k++) messages.push(await this.#take(k, seq, kind));
    const reply = hub(messages);
    for (let k = 1; k < this.worldSize; k++) {
      const copy = reply.data === undefined ? reply : { ...reply, data: reply.data.slice() };
      this.#post(k, copy);
    }
    return reply;
  }

  async barrier(): Promise<void> {
    this.#check(0);
    const seq = this.#seq + 1;
    await this.#round(
      'barrier',
      () => ({ seq, kind: 'barrier' }),
      () => ({ seq, kind: 'barrier' }),
    );
  }

  async allReduceMean(length: number): Promise<void> {
    this.#check(length);
    const seq = this.#seq + 1;
    const r = await this.#round(
      'mean',
      // rank 0 reduces its own input in place; the others send a copy, which the post transfers
      () => ({ seq, kind: 'mean', data: this.rank === 0 ? this.#in : this.#in.slice(0, length) }),
      (messages) => {
        meanInto(
          this.#out,
          messages.map((m) => m.data!),
          length,
        );
        return { seq, kind: 'mean', data: this.#out.subarray(0, length) };
      },
    );
    if (this.rank !== 0) copyFloats(this.#out, 0, r.data!);
  }

  async broadcast(length: number): Promise<void> {
    this.#check(length);
    const seq = ++this.#seq;
    if (this.rank !== 0) {
      copyFloats(this.#out, 0, (await this.#take(0, seq, 'broadcast')).data!);
      return;
    }
    copyFloats(this.#out, 0, this.#in.subarray(0, length));
    for (let k = 1; k < this.worldSize; k++) this.#post(k, { seq, kind: 'broadcast', data: this.#in.slice(0, length) });
  }

  async anyBits(bits: number): Promise<number> {
    this.#check(0);
    const seq = this.#seq + 1;
    const r = await this.#round(
      'bits',
      () => ({ seq, kind: 'bits', bits: bits | 0 }),
      (messages) => ({ seq, kind: 'bits', bits: messages.reduce((a, m) => a | (m.bits ?? 0), 0) }),
    );
    return r.bits ?? 0;
  }

  close(): void {
    for (const port of this.#ports) port?.close();
  }
}
