/**
 * @module lightning/strategies/worker-protocol — what rank 0 and the worker ranks say to each
 * other through comlink: the start of each run (its stage, the shared buffer, the loggers'
 * versions), and the gather of predictions. Per-step data never goes through comlink: it goes
 * through the shared buffer (all-reduce.ts), or where there is none through a MessagePort of
 * its own per rank (message-collective.ts).
 */
import type { Stage } from '../callbacks/callback.ts';
import type { Backend } from '../../backend.ts';
import type { DType } from '../../dtype.ts';
import { Tensor } from '../../tensor/index.ts';

/** What rank 0 sends each worker when one of its runs (fit, validate, test, predict) starts. */
export interface RunStart {
  /** The run's number in the script, from 1: the n-th entry point called on this Trainer. */
  readonly seq: number;
  readonly stage: Stage;
  /** The run's shared buffer (all-reduce.ts); absent where the host has no SharedArrayBuffer. */
  readonly shared?: SharedArrayBuffer;
  /** Without a shared buffer: this rank's port to rank 0 (message-collective.ts), transferred. */
  readonly port?: MessagePort;
  readonly capacity: number;
  /** Rank 0's parameters and buffers, `name: dtype[shape]` each: a rank whose model differs stops the run. */
  readonly entries: readonly string[];
  /** Rank 0's resolved version of each logger, so every rank's `logDir` is rank 0's. */
  readonly loggerVersions: readonly (number | string | null)[];
}

/** The API a worker rank exposes to rank 0 (comlink-wrapped on rank 0's side). */
export interface RankApi {
  /** Queues the start of run `run.seq`; this rank's matching entry point picks it up. */
  begin(run: RunStart): void;
  /** This rank's predictions of run `seq`, serialized, once its loop is done. */
  takePredictions(seq: number): unknown[];
  /** Resolves once this rank waits for a run rank 0 has not started (its code after the last run is done). */
  idle(): Promise<void>;
}

/** A tensor as structured clone carries it. */
interface PackedTensor {
  readonly __lightningTensor: true;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: ArrayBufferView;
}

function isPacked(x: unknown): x is PackedTensor {
  return typeof x === 'object' && x !== null && (x as Partial<PackedTensor>).__lightningTensor === true;
}

/**
 * A prediction output with its tensors read back, so that structured clone can carry it
 * (arrays, plain objects and Maps are walked; other values go as they are).
 * @example await packOutput({ z: tensor([1, 2]) }) // { z: { __lightningTensor: true, dtype: 'float32', shape: [2], data } }
 */
export async function packOutput(x: unknown): Promise<unknown> {
  if (x instanceof Tensor) {
    return { __lightningTensor: true, dtype: x.dtype, shape: [...x.shape], data: await x.data() } as PackedTensor;
  }
  if (Array.isArray(x)) return Promise.all(x.map(packOutput));
  if (x instanceof Map) {
    const entries = await Promise.all(
      [...(x as Map<unknown, unknown>)].map(async ([k, v]) => [k, await packOutput(v)]),
    );
    return new Map(entries as [unknown, unknown][]);
  }
  if (typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = await packOutput(v);
    return out;
  }
  return x;
}

/**
 * The inverse of {@link packOutput}: tensors rebuilt on `backend`.
 * @example unpackOutput(packed, trainer.rootBackend!)
 */
export function unpackOutput(x: unknown, backend: Backend): unknown {
  if (isPacked(x)) return Tensor.fromArray(backend, x.dtype, x.shape, x.data as Float32Array);
  if (Array.isArray(x)) return x.map((v) => unpackOutput(v, backend));
  if (x instanceof Map)
    return new Map([...(x as Map<unknown, unknown>)].map(([k, v]) => [k, unpackOutput(v, backend)]));
  if (typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype) {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, unpackOutput(v, backend)]));
  }
  return x;
}
