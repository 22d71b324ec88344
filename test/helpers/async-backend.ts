/**
 * @module helpers/async-backend — a backend that reads back the way WebGPU does, on the CPU:
 * another backend (wasm) behind `syncReadback: false`, a `readSync` that throws, reads that
 * resolve a macrotask later, and a `loseDevice()` that makes every later call throw a
 * DeviceLostError (and resolves `lost`), as a WebGPU device loss does. Training through the
 * Trainer on it proves the training, logging and checkpoint paths never read synchronously.
 */
import type { Backend, BufferHandle, TensorView } from '../../runtime/backend.ts';
import type { DType, StorageArray } from '../../runtime/dtype.ts';
import { BackendError, DeviceLostError } from '../../runtime/errors.ts';
import type { OpAttrs, OpName } from '../../runtime/ops.ts';

/** The wrapper, with the device-loss switch and a count of reads. */
export interface AsyncReadbackBackend extends Backend {
  /** Resolves with the DeviceLostError once `loseDevice` was called (as WebGPUBackend.lost). */
  readonly lost: Promise<DeviceLostError>;
  /** From now on every call throws a DeviceLostError naming `reason`. */
  loseDevice(reason?: string): void;
  /** How many asynchronous reads ran. */
  readonly reads: number;
}

/**
 * `inner` behind WebGPU's readback rules, named `${inner.name}-async`.
 * @example
 * const gpuLike = asyncReadbackBackend(wasm);
 * new Trainer({ accelerator: gpuLike })
 */
export function asyncReadbackBackend(inner: Backend, name = `${inner.name}-async`): AsyncReadbackBackend {
  let lostError: DeviceLostError | null = null;
  let resolveLost: (e: DeviceLostError) => void = () => undefined;
  const lost = new Promise<DeviceLostError>((r) => {
    resolveLost = r;
  });
  let reads = 0;
  const alive = (): void => {
    if (lostError !== null) throw lostError;
  };
  return {
    name,
    capabilities: { dtypes: inner.capabilities.dtypes, syncReadback: false },
    lost,
    get reads() {
      return reads;
    },
    loseDevice(reason = 'destroyed') {
      if (lostError !== null) return;
      lostError = new DeviceLostError(
        `${name}: the device was lost (${reason}); expected a live device, got a lost one`,
      );
      resolveLost(lostError);
    },
    alloc(dtype: DType, length: number): BufferHandle {
      alive();
      return inner.alloc(dtype, length);
    },
    // Freeing after a loss is allowed (WebGPU's destroy on a lost device is a no-op).
    free(buffer: BufferHandle): void {
      if (lostError === null) inner.free(buffer);
    },
    write(buffer: BufferHandle, data: StorageArray, offset?: number): void {
      alive();
      if (offset === undefined) inner.write(buffer, data);
      else inner.write(buffer, data, offset);
    },
    async read(buffer: BufferHandle, offset: number, length: number): Promise<StorageArray> {
      alive();
      // Copy now (program order, as WebGPU's staging copy is queued), resolve a macrotask later.
      const data = inner.readSync(buffer, offset, length);
      reads++;
      await new Promise<void>((r) => setTimeout(r, 0));
      alive();
      return data;
    },
    readSync(): StorageArray {
      throw new BackendError(
        `${name}: readSync is not available; expected await backend.read(...) (this backend reads back asynchronously, as WebGPU), got a synchronous read`,
      );
    },
    run<O extends OpName>(op: O, out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs[O]): void {
      alive();
      inner.run(op, out, inputs, attrs);
    },
    memory: () => inner.memory(),
    dispose: () => undefined,
  };
}
