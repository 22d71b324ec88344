/**
 * @module gpu-navigator — the WebGPU of browsers and Deno: `navigator.gpu`.
 *
 * Where it is absent, the reason is named as precisely as the host lets us: an insecure
 * page (WebGPU needs a secure context), or a browser that has WebGPU off (Chromium on
 * Linux needs `--enable-unsafe-webgpu`).
 */
import type { GpuSource } from '../runtime/backends/webgpu/device.ts';

/**
 * `navigator.gpu` with the step that found it, or `gpu: undefined` and why not.
 *
 * @example
 * navigatorGpuSource('browser').tried // ['navigator.gpu: present']
 */
export function navigatorGpuSource(host: 'browser' | 'deno'): GpuSource {
  const scope = globalThis as { navigator?: { gpu?: GPU }; isSecureContext?: boolean };
  if (scope.navigator === undefined)
    return { gpu: undefined, tried: ['navigator: absent (no navigator in this scope)'] };
  const gpu = scope.navigator.gpu;
  if (gpu !== undefined && gpu !== null) return { gpu, tried: ['navigator.gpu: present'] };
  if (host === 'deno')
    return { gpu: undefined, tried: ['navigator.gpu: absent (Deno 2 exposes it; Deno 1 needs --unstable-webgpu)'] };
  if (scope.isSecureContext === false)
    return { gpu: undefined, tried: ['navigator.gpu: absent (not a secure context; WebGPU needs https or localhost)'] };
  return {
    gpu: undefined,
    tried: [
      'navigator.gpu: absent (this browser has no WebGPU or has it off; Chromium on Linux needs --enable-unsafe-webgpu)',
    ],
  };
}
