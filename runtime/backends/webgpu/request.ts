/**
 * @module webgpu/request — a WebGPU backend from the host's GPU, in one call, and the
 * check `accelerator: 'auto'` makes before choosing one.
 *
 * Both go through the installed Platform (`requestGpu` / `detectGpu`), so they work the
 * same in Node (the optional `webgpu` package), Deno and browsers (`navigator.gpu`).
 */
import { getPlatform } from '../../platform.ts';
import type { WebGPUBackend, WebGPUBackendOptions } from './backend.ts';
import { createWebGPUBackend } from './backend.ts';
import type { GpuDetection, GpuHandle, GpuRequestOptions } from './device.ts';

/**
 * Options of {@link requestWebGPUBackend}: which adapter to accept, plus the backend's own
 * tuning options.
 *
 * @example
 * await requestWebGPUBackend({ powerPreference: 'high-performance', maxBatchDispatches: 64 });
 */
export type RequestWebGPUBackendOptions = GpuRequestOptions & Omit<WebGPUBackendOptions, 'device' | 'adapterInfo'>;

/** The backend, and the device report it runs on. */
export interface RequestedWebGPUBackend {
  readonly backend: WebGPUBackend;
  readonly gpu: GpuHandle;
}

/**
 * Acquires a device through the platform (software adapters refused unless
 * `allowFallbackAdapter`) and creates the WebGPU backend on it. It does not become the
 * default backend: pass it to `setDefaultBackend` for that. Rejects with a
 * NoGpuAdapterError that lists what was tried when there is no usable adapter.
 *
 * @example
 * import { requestWebGPUBackend, setDefaultBackend } from 'lightning-ts';
 * const { backend, gpu } = await requestWebGPUBackend({ powerPreference: 'high-performance' });
 * console.log(gpu.adapterInfo.description, gpu.features.f16);
 * setDefaultBackend(backend);
 */
export async function requestWebGPUBackend(options: RequestWebGPUBackendOptions = {}): Promise<RequestedWebGPUBackend> {
  const { powerPreference, allowFallbackAdapter, requiredFeatures, ...backendOptions } = options;
  const request: GpuRequestOptions = {
    ...(powerPreference === undefined ? {} : { powerPreference }),
    ...(allowFallbackAdapter === undefined ? {} : { allowFallbackAdapter }),
    ...(requiredFeatures === undefined ? {} : { requiredFeatures }),
  };
  const gpu = await getPlatform().requestGpu(request);
  return { backend: createWebGPUBackend({ ...backendOptions, device: gpu.device }), gpu };
}

/**
 * Whether the host has a hardware WebGPU adapter, without creating a device: what
 * `Trainer({ accelerator: 'auto' })` asks before picking WebGPU over wasm. A software
 * adapter counts as none. `adapter` is null when there is none, and `reason` says why
 * (or which adapter was found).
 *
 * @example
 * const found = await detectGpu();
 * found.adapter === null ? console.log(found.reason) : console.log(found.adapter.description);
 */
export function detectGpu(options: Pick<GpuRequestOptions, 'powerPreference'> = {}): Promise<GpuDetection> {
  return getPlatform().detectGpu(options);
}
