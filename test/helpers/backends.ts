/**
 * @module backends — every backend this test process can run, for suites that iterate
 * over backends.
 *
 * Always the reference. Plus `wasm` (simd128 build) when `build/kernels-simd.wasm` exists
 * and `runtime/backends/wasm.ts` exports `createWasmBackend`, and `wasm-relaxed` when the
 * relaxed-simd build exists and this process validates relaxed SIMD. The wasm module is
 * imported dynamically, so this file works before the wasm backend exists; once it
 * exists, an error while loading it fails the suite instead of silently skipping wasm.
 * A webgpu backend will join this list. Node 20 validates relaxed SIMD only behind a flag:
 * `npx vitest run --execArgv=--experimental-wasm-relaxed-simd` adds `wasm-relaxed`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Backend, BufferHandle, TensorView } from '../../runtime/backend.ts';
import type { DType, StorageArray } from '../../runtime/dtype.ts';
import type { OpAttrs, OpName } from '../../runtime/ops.ts';
import type { KernelVariant } from '../../runtime/platform.ts';
import { createReferenceBackend } from '../../runtime/backends/reference.ts';
import { allocArray } from '../../runtime/dtype.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WASM_MODULE = new URL('../../runtime/backends/wasm.ts', import.meta.url);
const VARIANT_MODULE = new URL('../../runtime/backends/wasm-variant.ts', import.meta.url);

type CreateWasmBackend = (options: { bytes: Uint8Array; variant: KernelVariant }) => Backend | Promise<Backend>;
type SelectKernelVariant = (options: { deterministic: boolean }) => KernelVariant;

function kernelPath(variant: KernelVariant): string {
  return `${ROOT}build/kernels-${variant}.wasm`;
}

/** The same backend under another name, so test names tell the two wasm builds apart. */
function renamed(backend: Backend, name: string): Backend {
  return {
    name,
    capabilities: backend.capabilities,
    alloc: (dtype, length) => backend.alloc(dtype, length),
    free: (buffer) => backend.free(buffer),
    write: (buffer, data, offset) => (offset === undefined ? backend.write(buffer, data) : backend.write(buffer, data, offset)),
    read: (buffer, offset, length) => backend.read(buffer, offset, length),
    readSync: (buffer, offset, length) => backend.readSync(buffer, offset, length),
    run: (op, out, inputs, attrs) => backend.run(op, out, inputs, attrs),
    memory: () => backend.memory(),
    dispose: () => backend.dispose(),
  };
}

async function wasmBackends(): Promise<Backend[]> {
  if (!existsSync(fileURLToPath(WASM_MODULE)) || !existsSync(kernelPath('simd'))) return [];
  const mod = (await import(WASM_MODULE.href)) as { createWasmBackend?: CreateWasmBackend };
  const create = mod.createWasmBackend;
  if (typeof create !== 'function') return [];
  const result: Backend[] = [];
  const simd = await create({ bytes: new Uint8Array(readFileSync(kernelPath('simd'))), variant: 'simd' });
  result.push(simd);
  if (existsSync(fileURLToPath(VARIANT_MODULE)) && existsSync(kernelPath('relaxed'))) {
    const variantMod = (await import(VARIANT_MODULE.href)) as { selectKernelVariant?: SelectKernelVariant };
    if (typeof variantMod.selectKernelVariant === 'function' && variantMod.selectKernelVariant({ deterministic: false }) === 'relaxed') {
      const relaxed = await create({ bytes: new Uint8Array(readFileSync(kernelPath('relaxed'))), variant: 'relaxed' });
      result.push(relaxed.name === simd.name ? renamed(relaxed, `${relaxed.name}-relaxed`) : relaxed);
    }
  }
  return result;
}

/**
 * Every backend available here, the reference first. Each call creates fresh instances;
 * the caller disposes them.
 * @example
 * const backends = await availableBackends();
 * backends.map((b) => b.name) // ['reference', 'wasm']
 */
export async function availableBackends(): Promise<Backend[]> {
  return [createReferenceBackend(), ...(await wasmBackends())];
}

/**
 * One tensor view for `runOp`: its buffer's full contents (`data`, or `length` zeros) and
 * the view into it. Strides default to row-major contiguous, offset to 0.
 * @example { dtype: 'float32', shape: [2, 3], strides: [1, 2], data: [1, 2, 3, 4, 5, 6] } // a transpose
 */
export interface ViewSpec {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides?: readonly number[];
  readonly offset?: number;
  /** The whole buffer's contents; its length is the buffer's length. */
  readonly data?: ArrayLike<number>;
  /** The buffer's length when `data` is absent (zeros). Default: the view's extent. */
  readonly length?: number;
}

/**
 * Row-major contiguous strides.
 * @example contiguousStrides([2, 3]) // [3, 1]
 */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides: number[] = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = (strides[d + 1] ?? 1) * (shape[d + 1] ?? 1);
  return strides;
}

function bufferLength(spec: ViewSpec): number {
  if (spec.data !== undefined) return spec.data.length;
  if (spec.length !== undefined) return spec.length;
  return spec.shape.reduce((a, b) => a * b, 1) + (spec.offset ?? 0);
}

/**
 * Runs `op` on `backend` with buffers made from the specs, and returns the whole `out`
 * buffer (so elements a strided `out` must leave alone are checked too). Frees every
 * buffer it allocated, also when the op throws.
 * @example
 * await runOp(backend, 'add', { dtype: 'float32', shape: [2] },
 *   [{ dtype: 'float32', shape: [2], data: [1, 2] }, { dtype: 'float32', shape: [2], data: [3, 4] }], {});
 * // Float32Array [4, 6]
 */
export async function runOp<O extends OpName>(
  backend: Backend, op: O, out: ViewSpec, inputs: readonly ViewSpec[], attrs: OpAttrs[O],
): Promise<StorageArray> {
  const handles: BufferHandle[] = [];
  const toView = (spec: ViewSpec): TensorView => {
    const length = bufferLength(spec);
    const buffer = backend.alloc(spec.dtype, length);
    handles.push(buffer);
    if (spec.data !== undefined && length > 0) {
      const arr = allocArray(spec.dtype, length);
      for (let i = 0; i < length; i++) arr[i] = spec.data[i] ?? 0;
      backend.write(buffer, arr);
    }
    return {
      buffer, dtype: spec.dtype, shape: spec.shape,
      strides: spec.strides ?? contiguousStrides(spec.shape), offset: spec.offset ?? 0,
    };
  };
  try {
    const inputViews = inputs.map(toView);
    const outView = toView(out);
    backend.run(op, outView, inputViews, attrs);
    return await backend.read(outView.buffer, 0, outView.buffer.length);
  } finally {
    for (const h of handles) backend.free(h);
  }
}
