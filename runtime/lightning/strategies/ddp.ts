/**
 * @module lightning/strategies/ddp — `strategy: 'ddp'`: data-parallel training over a pool of
 * workers, as Lightning's DDP with its subprocess launcher.
 *
 * How the user's module reaches each rank: Lightning re-runs the user's script once per rank,
 * and so do we. The process that runs the script is rank 0; at its first fit/validate/test/
 * predict it asks the Platform to start ranks 1..N-1 (`Platform.spawnWorker`: in Node a
 * worker thread on the same entry script with the same execArgv, the rank in its
 * workerData; in Deno and in a browser's module worker a module Web Worker that imports the
 * same module, the rank in its name: bindings/web-worker-ranks.ts). In a worker, the script
 * runs from the top; its `new Trainer({ strategy: 'ddp' })`
 * finds `Platform.workerRank` and joins the pool as that rank instead of starting one, and each
 * entry point it calls is matched with rank 0's entry point of the same number. Code after
 * `fit` runs on every rank, as in Lightning: guard rank-0-only work with `trainer.isGlobalZero`.
 *
 * Rank 0 drives the workers through comlink (worker-protocol.ts): the start of each run (its
 * stage, a SharedArrayBuffer sized for the model, the loggers' versions) and the gather of
 * predictions. Everything per step goes through the shared buffer (all-reduce.ts): rank 0's
 * weights and buffers are broadcast before the first step, gradients are averaged at every
 * optimizer step (one flat buffer), syncDist values and stop decisions are agreed on.
 *
 * Faults: a rank whose run throws marks the shared buffer failed (with its message) and every
 * waiting rank wakes and throws a DistributedError naming it; a worker that dies is noticed by
 * rank 0 (its exit event), which marks the run failed the same way. Rank 0 then terminates every
 * worker, so nothing keeps the process alive.
 */
import type { Remote } from 'comlink';
import type { Backend } from '../../backend.ts';
import { getPlatform, type WorkerExit, type WorkerHandle, type WorkerRank } from '../../platform.ts';
import { Tensor } from '../../tensor/index.ts';
import type { Stage } from '../callbacks/callback.ts';
import { DistributedError, MisconfigurationError, NotAvailableYetError, WorkerStartError } from '../errors.ts';
import { type Collective, copyFloats, MAX_WORLD_SIZE, SharedCollective, sharedBytes } from './all-reduce.ts';
import { MessageCollective } from './message-collective.ts';
import { packOutput, unpackOutput, type RankApi, type RunStart } from './worker-protocol.ts';

/** A worker rank as rank 0 sees it. */
interface Slot {
  readonly rank: number;
  readonly handle: WorkerHandle;
  readonly remote: Remote<RankApi>;
  /** Rejects when the worker ends (attached to every wait on it). */
  readonly exited: Promise<never>;
  exit: WorkerExit | null;
  /** The worker acknowledged a run: its script loaded and its Trainer joined. */
  joined: boolean;
}

/** Rank 0's pool, shared by every DDP Trainer of the process (one script, one pool). */
interface Pool {
  readonly worldSize: number;
  readonly slots: Slot[];
  seq: number;
  run: Collective | null;
}

let pool: Pool | null = null;
/** Set when a run failed: the workers are gone and the script's ranks can no longer be matched. */
let broken: DistributedError | null = null;

/** A worker's side: the runs rank 0 announced, and predictions waiting to be gathered. */
interface WorkerSide {
  readonly self: WorkerRank;
  ready: Promise<void>;
  readonly runs: Map<number, RunStart>;
  readonly waiting: Map<number, (run: RunStart) => void>;
  readonly predictions: Map<number, unknown[]>;
  /** Waiting for a run that rank 0 has not started yet (between runs, its code after a run done). */
  idle: boolean;
  /** Rank 0's `idle()` calls, answered when this rank next waits for a run. */
  readonly idleWaiters: (() => void)[];
  seq: number;
  /** The run in progress, which this worker marks failed if its thread ends during it. */
  run: Collective | null;
}
let workerSide: WorkerSide | null = null;

function message(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The sizes the shared buffer is cut for: parameters (with a has-grad flag each), then buffers. */
export interface ModelLayout {
  readonly params: readonly Tensor[];
  readonly buffers: readonly Tensor[];
  /** Each parameter's and buffer's name, dtype and shape (`encoder.0.weight: float32[64, 784]`), checked across ranks at the start. */
  readonly entries?: readonly string[];
}

/**
 * The entries of {@link ModelLayout.entries} for a module's named parameters and buffers.
 * @example layoutEntries(model.namedParameters(), model.namedBuffers()) // ['encoder.0.weight: float32[64, 784]', ...]
 */
export function layoutEntries(...named: Iterable<[string, Tensor]>[]): string[] {
  const out: string[] = [];
  for (const list of named) for (const [name, t] of list) out.push(`${name}: ${t.dtype}[${t.shape.join(', ')}]`);
  return out;
}

/** Where two ranks' layouts part (torch DDP checks the shapes the same way before its broadcast), or null. */
function layoutDifference(rank: number, mine: readonly string[], zero: readonly string[]): string | null {
  const n = Math.max(mine.length, zero.length);
  for (let i = 0; i < n; i++) {
    if (mine[i] === zero[i]) continue;
    const ours = mine[i] === undefined ? 'nothing' : `'${mine[i]}'`;
    const theirs = zero[i] === undefined ? 'nothing' : `'${zero[i]}'`;
    return `rank ${rank}'s model has ${ours} where rank 0's has ${theirs} (parameter or buffer ${i + 1} of ${zero.length}); expected every rank to build the same model (a constructor that draws its sizes from an unseeded source builds a different one on each rank: call manualSeed before building the model)`;
  }
  return null;
}

function numel(ts: readonly Tensor[]): number {
  let n = 0;
  for (const t of ts) n += t.numel();
  return n;
}

function capacityOf(layout: ModelLayout): number {
  return Math.max(64, numel(layout.params) + layout.params.length, numel(layout.buffers));
}

async function readValues(t: Tensor): Promise<ArrayLike<number>> {
  const c = t.isContiguous() ? t : t.contiguous();
  const b = c.backend;
  const v = b.capabilities.syncReadback
    ? b.readSync(c.view_().buffer, c.offset, c.numel())
    : await b.read(c.view_().buffer, c.offset, c.numel());
  if (c !== t) c.dispose();
  return v as ArrayLike<number>;
}

/** Copies `t`'s values into `target` at `at`, straight from the backend's memory where it can. */
async function readInto(t: Tensor, target: Float32Array, at: number): Promise<void> {
  const b = t.backend;
  if (b.readInto !== undefined && t.dtype === 'float32' && t.isContiguous()) {
    b.readInto(t.view_().buffer, t.offset, t.numel(), target, at);
    return;
  }
  const v = await readValues(t);
  if (v instanceof Float32Array) copyFloats(target, at, v);
  else target.set(v, at);
}

/** Writes float values into `t` in place (a leaf parameter, buffer or gradient). */
function writeValues(t: Tensor, values: Float32Array): void {
  const b = t.backend;
  // The wasm and reference backends copy at once; a device queue (WebGPU) gets its own copy.
  const data = b.capabilities.syncReadback ? values : values.slice();
  if (!t.isContiguous() || (t.dtype !== 'float32' && t.dtype !== 'int32')) {
    throw new NotAvailableYetError(
      `DDP: cannot sync tensor; expected a contiguous float32 or int32 parameter, buffer or gradient, got a ${t.isContiguous() ? '' : 'non-contiguous '}${t.dtype} tensor of shape [${t.shape.join(', ')}]`,
    );
  }
  b.write(t.view_().buffer, t.dtype === 'int32' ? Int32Array.from(values) : data, t.offset);
}

/** Writes each parameter's has-grad flag (1 or 0) after its `at` gradient values; returns the length. */
function packFlags(params: readonly Tensor[], buf: Float32Array, at: number): number {
  for (let i = 0; i < params.length; i++) buf[at + i] = params[i]!.grad === null ? 0 : 1;
  return at + params.length;
}

/** Puts the mean gradients of `out` (laid out as packFlags wrote them) into the parameters; whether any rank had one. */
function unpackGradients(params: readonly Tensor[], out: Float32Array): boolean {
  const total = numel(params);
  let any = false;
  let o = 0;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    const n = p.numel();
    if (out[total + i]! > 0) {
      any = true;
      const values = out.subarray(o, o + n);
      if (p.grad === null) p.grad = Tensor.fromArray(p.backend, 'float32', p.shape, values.slice());
      else writeValues(p.grad, values);
    }
    o += n;
  }
  return any;
}

/**
 * One Trainer's view of the data-parallel pool: rank, world size and the collectives.
 * @example const s = new DDPStrategy(2); s.globalRank // 0 in the script's process, 1 in the worker
 */
export class DDPStrategy {
  readonly globalRank: number;
  readonly worldSize: number;
  #run: Collective | null = null;
  #seq = 0;

  constructor(worldSize: number) {
    const platform = getPlatform();
    const self = platform.workerRank ?? null;
    if (worldSize > MAX_WORLD_SIZE) {
      throw new NotAvailableYetError(
        `Trainer: devices ${worldSize} is not available yet; expected at most ${MAX_WORLD_SIZE} DDP ranks, got ${worldSize}`,
      );
    }
    if (self !== null) {
      if (self.worldSize !== worldSize) {
        throw new DistributedError(
          `DDP: rank ${self.rank} was started for ${self.worldSize} ranks; expected the same devices on every rank, got devices ${worldSize}`,
          { rank: self.rank },
        );
      }
      this.globalRank = self.rank;
      workerSide ??= startWorkerSide(self);
    } else {
      if (platform.spawnWorker === undefined) {
        throw new NotAvailableYetError(
          `Trainer: strategy 'ddp' is not available yet in ${platform.name}; expected a platform that starts workers (Node, Deno, a browser's module worker), got ${platform.name} without spawnWorker`,
        );
      }
      this.globalRank = 0;
    }
    this.worldSize = worldSize;
  }

  get isGlobalZero(): boolean {
    return this.globalRank === 0;
  }

  /** Whether a run is in progress (between {@link start} and {@link end}). */
  get running(): boolean {
    return this.#run !== null;
  }

  /**
   * Fails the run in progress for every rank now (an interrupt), naming `reason`: a rank waiting
   * in a collective wakes and throws a DistributedError, and {@link end} then ends the run as
   * after any failure (rank 0 terminates the workers). Between runs it does nothing.
   */
  abortRun(reason: string): void {
    this.#run?.abort(this.globalRank, reason);
  }

  /** The run's collective where it can block (shared memory); else what to do about it. */
  #blockingCollective(): SharedCollective {
    const c = this.#collective();
    if (!(c instanceof SharedCollective)) {
      throw new NotAvailableYetError(
        "DDP: synchronous collectives (syncBatchnorm's statistics, manual optimization's gradients) are not available yet without shared memory; expected ranks that share a SharedArrayBuffer (a page served with 'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp'), got ranks that exchange transferred buffers",
      );
    }
    return c;
  }

  #collective(): Collective {
    if (this.#run === null)
      throw new DistributedError('DDP: no run in progress; expected a call inside fit/validate/test/predict, got none');
    return this.#run;
  }

  /**
   * Starts a run on every rank: rank 0 starts the workers (the first time) and sends each the
   * run's start; a worker waits for the start whose number matches its own entry point. Returns
   * rank 0's loggers' versions (on every rank).
   */
  async start(
    stage: Stage,
    layout: ModelLayout,
    loggerVersions: readonly (number | string | null)[],
  ): Promise<readonly (number | string | null)[]> {
    if (broken !== null) {
      throw new DistributedError(
        `DDP: the pool ended after a failed run; expected a new process for a new DDP run, got trainer.${stage} after: ${broken.message}`,
        { rank: broken.rank, cause: broken },
      );
    }
    return this.globalRank === 0
      ? this.#startRankZero(stage, layout, loggerVersions)
      : this.#startWorker(stage, layout);
  }

  async #startRankZero(
    stage: Stage,
    layout: ModelLayout,
    loggerVersions: readonly (number | string | null)[],
  ): Promise<readonly (number | string | null)[]> {
    const p = await ensurePool(this.worldSize);
    const capacity = capacityOf(layout);
    p.seq++;
    this.#seq = p.seq;
    const base = { seq: p.seq, stage, capacity, loggerVersions, entries: layout.entries ?? [] };
    let run: Collective;
    let starts: RunStart[];
    if (hasSharedMemory()) {
      const shared = new SharedArrayBuffer(sharedBytes(this.worldSize, capacity));
      run = new SharedCollective(shared, 0, this.worldSize, capacity);
      starts = p.slots.map(() => ({ ...base, shared }));
    } else {
      warnNoSharedMemory();
      const channels = p.slots.map(() => new MessageChannel());
      run = new MessageCollective(0, this.worldSize, capacity, [null, ...channels.map((c) => c.port1)]);
      starts = channels.map((c) => ({ ...base, port: c.port2 }));
    }
    for (const s of p.slots) {
      if (s.exit !== null) {
        throw new DistributedError(
          `DDP: rank ${s.rank} has ended; expected every rank to reach trainer.${stage} (code after fit runs on every rank: do not guard entry points with isGlobalZero), got its worker gone with code ${s.exit.code}`,
          { rank: s.rank },
        );
      }
      s.handle.keepAlive(true);
    }
    p.run = run;
    this.#run = run;
    const { transfer } = await import('comlink');
    await Promise.all(
      p.slots.map(async (s, k) => {
        const start = starts[k]!;
        const sent = start.port === undefined ? start : transfer(start, [start.port]);
        await Promise.race([s.remote.begin(sent), s.exited]);
        s.joined = true;
      }),
    );
    await run.barrier();
    return loggerVersions;
  }

  async #startWorker(stage: Stage, layout: ModelLayout): Promise<readonly (number | string | null)[]> {
    const side = workerSide!;
    await side.ready;
    side.self.keepAlive(true);
    side.seq++;
    this.#seq = side.seq;
    let start = side.runs.get(side.seq);
    if (start === undefined) {
      side.idle = true;
      for (const w of side.idleWaiters.splice(0)) w();
      start = await new Promise<RunStart>((resolve) => side.waiting.set(side.seq, resolve));
    }
    side.idle = false;
    side.runs.delete(side.seq);
    // A worker's event loop has nothing to answer during a collective, so it sleeps in
    // Atomics.wait (woken in microseconds) rather than waitAsync (woken through its event loop).
    const run: Collective =
      start.shared !== undefined
        ? new SharedCollective(start.shared, this.globalRank, this.worldSize, start.capacity, { block: true })
        : new MessageCollective(this.globalRank, this.worldSize, start.capacity, [start.port!]);
    this.#run = run;
    side.run = run;
    let mismatch: string | null = null;
    if (start.stage !== stage)
      mismatch = `rank ${this.globalRank} called trainer.${stage} where rank 0 called trainer.${start.stage}; expected every rank to call the same entry points in the same order`;
    else if (layout.entries !== undefined && start.entries.length > 0)
      mismatch = layoutDifference(this.globalRank, layout.entries, start.entries);
    else if (capacityOf(layout) !== start.capacity)
      mismatch = `rank ${this.globalRank}'s model has ${numel(layout.params)} parameter values in ${layout.params.length} tensors and ${numel(layout.buffers)} buffer values, not rank 0's; expected every rank to build the same model`;
    if (mismatch !== null) {
      run.abort(this.globalRank, mismatch);
      throw new DistributedError(`DDP: ${mismatch}`, { rank: this.globalRank });
    }
    await run.barrier();
    return start.loggerVersions;
  }

  /**
   * Ends the run on this rank. On success every rank waits for the others (so files rank 0
   * wrote are there for the code after fit). On failure (`error`), the run is marked failed
   * for the other ranks and rank 0 terminates the workers.
   */
  async end(error: unknown): Promise<void> {
    const run = this.#run;
    if (run === null) return;
    let failure = error;
    if (failure === undefined) {
      try {
        await run.barrier();
      } catch (e) {
        failure = e;
      }
    }
    this.#run = null;
    if (workerSide?.run === run) workerSide.run = null;
    if (failure !== undefined) {
      if (run.failure === null) run.abort(this.globalRank, message(failure));
      if (this.globalRank === 0) {
        const f = run.failure;
        broken = new DistributedError(`DDP: rank ${f?.rank ?? 0} failed: ${f?.message ?? message(failure)}`, {
          rank: f?.rank ?? 0,
        });
        await shutDownPool();
        run.close();
      } else {
        workerSide?.self.keepAlive(false);
      }
      if (failure !== error) throw failure;
      return;
    }
    if (this.globalRank === 0) {
      const p = pool;
      if (p !== null) {
        p.run = null;
        // Code after a run runs on every rank, so the process waits for each worker until its
        // script ends or waits for a next run; a worker waiting for a run rank 0 never starts
        // must not keep the process alive once rank 0's script has ended.
        const seq = p.seq;
        for (const s of p.slots) {
          Promise.race([s.remote.idle(), s.exited]).then(
            () => {
              if (pool === p && p.run === null && p.seq === seq) s.handle.keepAlive(false);
            },
            () => {},
          );
        }
      }
    } else {
      // The rank that receives the last message closes the channel (ports: rank 0's replies are delivered first).
      run.close();
      workerSide?.self.keepAlive(false);
    }
  }

  /** Makes every rank's parameters and buffers rank 0's (torch DDP's `_sync_module_states`). */
  async broadcastModule(layout: ModelLayout): Promise<void> {
    const c = this.#collective();
    const tensors = [...layout.params, ...layout.buffers];
    if (numel(tensors) <= c.capacity) return this.#broadcastTensors(tensors);
    // The buffers go in a second round when parameters and buffers together do not fit.
    await this.#broadcastTensors(layout.params);
    await this.#broadcastTensors(layout.buffers);
  }

  async #broadcastTensors(tensors: readonly Tensor[]): Promise<void> {
    const c = this.#collective();
    const buf = c.input();
    let o = 0;
    if (this.globalRank === 0) {
      for (const t of tensors) {
        await readInto(t, buf, o);
        o += t.numel();
      }
    } else {
      o = numel(tensors);
    }
    await c.broadcast(o);
    if (this.globalRank === 0) return;
    const out = c.output();
    let at = 0;
    for (const t of tensors) {
      const n = t.numel();
      writeValues(t, out.subarray(at, at + n));
      at += n;
    }
  }

  /**
   * Replaces every parameter's gradient by its mean over the ranks (one flat buffer, a has-grad
   * flag per parameter: a parameter without a gradient on some ranks counts as zeros there, and
   * one without a gradient on every rank keeps none). Returns whether any rank had a gradient.
   */
  async reduceGradients(params: readonly Tensor[]): Promise<boolean> {
    const c = this.#collective();
    const buf = c.input();
    let o = 0;
    for (const p of params) {
      const g = p.grad;
      if (g === null) buf.fill(0, o, o + p.numel());
      else await readInto(g, buf, o);
      o += p.numel();
    }
    const n = packFlags(params, buf, o);
    await c.allReduceMean(n);
    return unpackGradients(params, c.output());
  }

  /**
   * {@link reduceGradients} without awaiting, for `manualBackward` under manual optimization
   * (torch DDP averages the gradients inside backward, which is synchronous here): the sum in
   * the shared buffer, blocking, then the division by the world size, the very bits of the mean.
   */
  reduceGradientsSync(params: readonly Tensor[]): boolean {
    const c = this.#blockingCollective();
    const buf = c.input();
    let o = 0;
    for (const p of params) {
      const g = p.grad;
      if (g === null) buf.fill(0, o, o + p.numel());
      else {
        const b = g.backend;
        if (b.readInto === undefined || g.dtype !== 'float32' || !g.isContiguous()) {
          throw new NotAvailableYetError(
            `DDP: manual optimization needs gradients it can read without awaiting; expected contiguous float32 gradients on the wasm or reference backend, got a ${g.dtype} gradient of shape [${g.shape.join(', ')}] on ${b.name}`,
          );
        }
        b.readInto(g.view_().buffer, g.offset, g.numel(), buf, o);
      }
      o += p.numel();
    }
    const n = packFlags(params, buf, o);
    c.allReduceSumSync(n);
    const sums = c.output();
    for (let i = 0; i < n; i++) sums[i]! /= this.worldSize;
    return unpackGradients(params, sums);
  }

  /** The element-wise mean over the ranks of `values` (syncDist). */
  async allReduceMean(values: Float32Array): Promise<Float32Array> {
    const c = this.#collective();
    copyFloats(c.input(), 0, values);
    await c.allReduceMean(values.length);
    return c.output().slice(0, values.length);
  }

  /**
   * The element-wise sum over the ranks of `values`, in rank order, synchronously (SyncBatchNorm's
   * statistics and their gradients, inside forward and backward: see nn's `ProcessGroup`). Every
   * rank must call it with the same length at the same point.
   */
  allReduceSumSync(values: Float32Array): Float32Array {
    const c = this.#blockingCollective();
    // Too many values: the collective throws its typed error, after a copy that stops at its capacity.
    copyFloats(c.input(), 0, values.subarray(0, c.capacity));
    c.allReduceSumSync(values.length);
    return c.output().slice(0, values.length);
  }

  /** The bitwise OR of every rank's `bits` (stop decisions that every rank must take together). */
  async agree(bits: number): Promise<number> {
    return this.#collective().anyBits(bits);
  }

  /**
   * Predict's outputs of every rank in the loader's order, on rank 0 (rank r ran batches r,
   * r + N, r + 2N, ...); a worker gets its own back.
   */
  async gatherPredictions(local: unknown[], backend: Backend): Promise<unknown[]> {
    const c = this.#collective();
    if (this.globalRank !== 0) {
      workerSide!.predictions.set(this.#seq, (await Promise.all(local.map(packOutput))) as unknown[]);
      await c.barrier();
      await c.barrier();
      return local;
    }
    await c.barrier();
    const p = pool!;
    let parts: unknown[][];
    try {
      parts = await Promise.all(p.slots.map((s) => Promise.race([s.remote.takePredictions(this.#seq), s.exited])));
    } catch (e) {
      c.abort(0, message(e));
      throw e;
    }
    await c.barrier();
    const all: unknown[][] = [local, ...parts.map((part) => part.map((x) => unpackOutput(x, backend)))];
    const total = all.reduce((n, a) => n + a.length, 0);
    const out: unknown[] = [];
    for (let k = 0; k < total; k++) out.push(all[k % this.worldSize]![Math.floor(k / this.worldSize)]);
    return out;
  }
}

/**
 * Whether the ranks can share memory: a SharedArrayBuffer exists and the host does not say it
 * is not cross-origin isolated (a page without COOP/COEP has none, or cannot send one).
 */
function hasSharedMemory(): boolean {
  const scope = globalThis as { crossOriginIsolated?: boolean };
  return typeof SharedArrayBuffer === 'function' && scope.crossOriginIsolated !== false;
}

let warnedNoSharedMemory = false;

/** Says once per process that the collectives go by transferred buffers, and how to avoid it. */
function warnNoSharedMemory(): void {
  if (warnedNoSharedMemory) return;
  warnedNoSharedMemory = true;
  console.warn(
    "lightning-ts: DDP: this page is not cross-origin isolated, so the ranks exchange gradients by transferred buffers through rank 0 (slower than shared memory); serve the page and its workers with 'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp' to share a SharedArrayBuffer instead",
  );
}

/** Rank 0: starts the workers once per process and waits for nothing yet (each run waits for its start). */
async function ensurePool(worldSize: number): Promise<Pool> {
  if (pool !== null) {
    if (pool.worldSize !== worldSize) {
      throw new MisconfigurationError(
        `Trainer: a DDP pool of ${pool.worldSize} ranks is running in this process; expected the same devices for every DDP Trainer of a script, got devices ${worldSize}`,
      );
    }
    return pool;
  }
  const platform = getPlatform();
  const { wrap } = await import('comlink');
  const slots: Slot[] = [];
  try {
    for (let rank = 1; rank < worldSize; rank++) {
      let handle: WorkerHandle;
      try {
        handle = platform.spawnWorker!({ rank, worldSize });
      } catch (e) {
        // A host that cannot run ranks here (a page's main thread, no cross-origin isolation) says why itself.
        if (e instanceof WorkerStartError || e instanceof NotAvailableYetError) throw e;
        throw new WorkerStartError(
          `DDP: rank ${rank} could not be started; expected a worker from ${platform.name}, got ${message(e)}`,
          { rank, cause: e },
        );
      }
      let fail: (e: unknown) => void = () => {};
      const exited = new Promise<never>((_, reject) => {
        fail = reject;
      });
      exited.catch(() => {});
      const slot: Slot = { rank, handle, remote: wrap<RankApi>(handle.endpoint), exited, exit: null, joined: false };
      handle.onExit((exit) => onWorkerExit(slot, exit, fail));
      slots.push(slot);
    }
  } catch (e) {
    await Promise.all(slots.map((s) => s.handle.terminate()));
    throw e;
  }
  pool = { worldSize, slots, seq: 0, run: null };
  return pool;
}

function onWorkerExit(slot: Slot, exit: WorkerExit, fail: (e: unknown) => void): void {
  slot.exit = exit;
  const cause = exit.error === undefined ? '' : `: ${message(exit.error)}`;
  const what = slot.joined
    ? `its worker ended (exit code ${exit.code})${cause}`
    : `its worker ended (exit code ${exit.code}) before its Trainer joined the run${cause || ' (its script finished without reaching the same Trainer entry point)'}`;
  const error = slot.joined
    ? new DistributedError(`DDP: rank ${slot.rank} failed; ${what}`, { rank: slot.rank, cause: exit.error })
    : new WorkerStartError(
        `DDP: rank ${slot.rank} could not join; expected the script to run in a worker up to the same trainer call, got ${what.replace('its worker', 'a worker')}`,
        { rank: slot.rank, cause: exit.error },
      );
  fail(error);
  const run = pool?.run ?? null;
  if (run !== null) run.abort(slot.rank, error.message);
  else if (exit.error !== undefined && pool !== null)
    console.error(`lightning-ts: DDP rank ${slot.rank} ended with an error after its runs${cause}`);
}

async function shutDownPool(): Promise<void> {
  const p = pool;
  pool = null;
  if (p === null) return;
  p.run = null;
  await Promise.all(p.slots.map((s) => (s.exit === null ? s.handle.terminate() : Promise.resolve())));
}

/** A worker: exposes {@link RankApi} to rank 0 over the Platform's endpoint. */
function startWorkerSide(self: WorkerRank): WorkerSide {
  const side: WorkerSide = {
    self,
    ready: Promise.resolve(),
    runs: new Map(),
    waiting: new Map(),
    predictions: new Map(),
    idle: false,
    idleWaiters: [],
    seq: 0,
    run: null,
  };
  // Rank 0 hears of a worker's end through its event loop, which it does not run while it blocks
  // in a synchronous collective (SyncBatchNorm): the worker says so in the shared buffer itself.
  self.onExit?.((code) => side.run?.abort(self.rank, `its worker ended (exit code ${code}) during the run`));
  const api: RankApi = {
    begin(run) {
      const w = side.waiting.get(run.seq);
      if (w !== undefined) {
        side.waiting.delete(run.seq);
        w(run);
      } else side.runs.set(run.seq, run);
    },
    takePredictions(seq) {
      const out = side.predictions.get(seq) ?? [];
      side.predictions.delete(seq);
      return out;
    },
    idle() {
      if (side.idle) return Promise.resolve();
      return new Promise<void>((resolve) => side.idleWaiters.push(resolve));
    },
  };
  side.ready = import('comlink').then(({ expose }) => {
    expose(api, self.endpoint);
    // Until a run starts, the link to rank 0 must not keep the worker alive after its script ends.
    self.keepAlive(false);
  });
  return side;
}
