/**
 * @module backends — every backend this test process can run, for suites that iterate
 * over backends.
 *
 * Always the reference. Plus `wasm` (simd128 build) when `build/kernels-simd.wasm` exists
 * and `runtime/backends/wasm/backend.ts` exports `createWasmBackend`, and `wasm-relaxed` when the
 * relaxed-simd build exists and this process validates relaxed SIMD. The wasm module is
 * imported dynamically, so this file works before the wasm backend exists; once it
 * exists, an error while loading it fails the suite instead of silently skipping wasm.
 * A webgpu backend will join this list. Node 20 validates relaxed SIMD only behind a flag:
 * `npx vitest run --execArgv=--experimental-wasm-relaxed-simd` adds `wasm-relaxed`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../../runtime/backend.ts';
import type { KernelVariant } from '../../runtime/platform.ts';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';

export { contiguousStrides, runOp, type ViewSpec } from './run-op.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WASM_MODULE = new URL('../../runtime/backends/wasm/backend.ts', import.meta.url);
const VARIANT_MODULE = new URL('../../runtime/backends/wasm/variant.ts', import.meta.url);

type CreateWasmBackend = (options: { bytes: Uint8Array; variant: KernelVariant }) => Backend | Promise<Backend>;
type SelectKernelVariant = (options: { deterministic: boolean }) => KernelVariant;

function kernelPath(variant: KernelVariant): string {
  return `${ROOT}build/kernels-${variant}.wasm`;
}

/**
 * A backend that forwards every call to `inner`, except what `overrides` replaces (and adds),
 * for test doubles of a backend.
 * @example wrapBackend(wasm, { name: 'wasm-relaxed' })
 */
export function wrapBackend<E extends object>(inner: Backend, overrides: Partial<Backend> & E): Backend & E {
  const forward: Backend = {
    name: inner.name,
    capabilities: inner.capabilities,
    alloc: (dtype, length, options) => inner.alloc(dtype, length, options),
    free: (buffer) => inner.free(buffer),
    write: (buffer, data, offset) =>
      offset === undefined ? inner.write(buffer, data) : inner.write(buffer, data, offset),
    read: (buffer, offset, length) => inner.read(buffer, offset, length),
    readSync: (buffer, offset, length) => inner.readSync(buffer, offset, length),
    run: (op, out, inputs, attrs) => inner.run(op, out, inputs, attrs),
    memory: () => inner.memory(),
    dispose: () => inner.dispose(),
  };
  return { ...forward, ...overrides } as Backend & E;
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
    if (
      typeof variantMod.selectKernelVariant === 'function' &&
      variantMod.selectKernelVariant({ deterministic: false }) === 'relaxed'
    ) {
      const relaxed = await create({ bytes: new Uint8Array(readFileSync(kernelPath('relaxed'))), variant: 'relaxed' });
      result.push(relaxed.name === simd.name ? wrapBackend(relaxed, { name: `${relaxed.name}-relaxed` }) : relaxed);
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
