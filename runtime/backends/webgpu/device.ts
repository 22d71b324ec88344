/**
 * @module webgpu/device — choosing a WebGPU adapter and creating the device, over any `GPU` object.
 *
 * The host part lives in bindings/: browsers and Deno hand over `navigator.gpu`, Node the
 * `GPU` of the optional `webgpu` package (Dawn). Each binding wraps what it found in a
 * {@link GpuSource}, with the steps it took, and this module does the rest the same way
 * everywhere:
 * - one `requestAdapter` with the caller's power preference; with `allowFallbackAdapter`,
 *   one more with `forceFallbackAdapter` when the first found nothing;
 * - a software adapter (SwiftShader, lavapipe/llvmpipe, WARP) is refused unless
 *   `allowFallbackAdapter` is true: it is a CPU path slower than the wasm backend;
 * - the device asks for `shader-f16` and `subgroups` whenever the adapter has them, and for
 *   the adapter's own maxima of the limits compute kernels hit (storage binding and buffer
 *   size, workgroup storage and sizes), since the defaults (128 MiB bindings, 16 KiB
 *   workgroup memory) are far below what real GPUs allow.
 *
 * Every failure to find an adapter is a {@link NoGpuAdapterError} whose message and
 * `tried` list say what was tried and why each step came up empty.
 */
import { BackendError, NoGpuAdapterError } from '../../errors.ts';

/**
 * Options of `requestGpu`.
 *
 * @example
 * await platform.requestGpu({ powerPreference: 'high-performance', allowFallbackAdapter: true });
 */
export interface GpuRequestOptions {
  /** Passed to `requestAdapter`. Default: none (the host's choice). */
  readonly powerPreference?: 'low-power' | 'high-performance';
  /** Accept a software adapter (SwiftShader, lavapipe). Default `false`. */
  readonly allowFallbackAdapter?: boolean;
  /** Features the device must have (beyond `shader-f16` and `subgroups`, which are taken when present). */
  readonly requiredFeatures?: readonly GPUFeatureName[];
}

/** Who made the adapter, as `GPUAdapterInfo` reports it (empty strings where the host hides it). */
export interface GpuAdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
}

/** The optional features the backend's kernels can use. */
export interface GpuFeatures {
  /** `shader-f16`: f16 in WGSL (mixed precision). */
  readonly f16: boolean;
  /** `subgroups`: subgroup operations in WGSL (reductions). */
  readonly subgroups: boolean;
}

/**
 * A device, with what it runs on.
 *
 * @example
 * const gpu = await getPlatform().requestGpu({});
 * gpu.adapterInfo.description // 'NVIDIA H100 80GB HBM3'
 * gpu.features.f16 // true
 */
export interface GpuHandle {
  readonly device: GPUDevice;
  readonly adapterInfo: GpuAdapterDescription;
  readonly isFallbackAdapter: boolean;
  readonly features: GpuFeatures;
}

/**
 * What a binding found: the host's `GPU` object (undefined when there is none) and the
 * steps it took to get it, e.g. `['webgpu package: loaded (Dawn)']` or `['navigator.gpu: absent']`.
 */
export interface GpuSource {
  readonly gpu: GPU | undefined;
  readonly tried: readonly string[];
}

/**
 * The outcome of `detectGpu`: a hardware adapter, or `adapter: null` and why not.
 *
 * @example
 * const found = await detectGpu();
 * if (found.adapter === null) console.log(`no GPU: ${found.reason}`);
 */
export type GpuDetection =
  | {
      readonly adapter: GpuAdapterDescription;
      readonly features: GpuFeatures;
      readonly reason: string;
      readonly tried: readonly string[];
    }
  | { readonly adapter: null; readonly reason: string; readonly tried: readonly string[] };

/** Limits whose adapter maximum the device asks for (the kernels are compute-only). */
const REQUESTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/**
 * CPU rasterisers by name, for hosts that do not set `isFallbackAdapter` on them (older
 * wgpu builds report lavapipe as an ordinary adapter).
 */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i;

function describeOptions(options: GPURequestAdapterOptions): string {
  const parts = Object.entries(options).map(([k, v]) => `${k}:${typeof v === 'string' ? `'${v}'` : String(v)}`);
  return `requestAdapter({${parts.join(',')}})`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The adapter's info as plain strings (hosts differ: `adapter.info` in the spec and in
 * Dawn and Deno; the older `requestAdapterInfo()` is not needed by any host we run on).
 */
function adapterInfoOf(adapter: GPUAdapter): GpuAdapterDescription & { readonly flaggedFallback: boolean | undefined } {
  const info = (adapter as { info?: Partial<GPUAdapterInfo> }).info ?? {};
  const legacy = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    vendor: String(info.vendor ?? ''),
    architecture: String(info.architecture ?? ''),
    device: String(info.device ?? ''),
    description: String(info.description ?? ''),
    flaggedFallback: info.isFallbackAdapter ?? legacy,
  };
}

/**
 * True for a software adapter: the host says so, or its name is a known CPU rasteriser.
 * @example isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader', device: '', description: '' }, undefined) // true
 */
export function isSoftwareAdapter(info: GpuAdapterDescription, flagged: boolean | undefined): boolean {
  if (flagged === true) return true;
  return SOFTWARE_ADAPTER.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`);
}

/** One line naming an adapter, e.g. `'SwiftShader driver 5.0.0 (google swiftshader)'`. */
export function adapterLabel(info: GpuAdapterDescription): string {
  const who = [info.vendor, info.architecture].filter((s) => s !== '').join(' ');
  const name =
    info.description !== '' ? info.description : info.device !== '' ? `device ${info.device}` : 'an unnamed adapter';
  return who === '' ? name : `${name} (${who})`;
}

interface Chosen {
  readonly adapter: GPUAdapter;
  readonly info: GpuAdapterDescription;
  readonly isFallbackAdapter: boolean;
}

/** The message every NoGpuAdapterError carries: the format, then the steps. */
function noAdapter(op: string, expected: string, tried: readonly string[]): NoGpuAdapterError {
  return new NoGpuAdapterError(
    `${op}: no usable WebGPU adapter; expected ${expected}, got none (tried: ${tried.join(' | ')})`,
    tried,
  );
}

/** Requests an adapter as the options allow; `tried` grows by one line per step. */
async function chooseAdapter(gpu: GPU, options: GpuRequestOptions, tried: string[]): Promise<Chosen | undefined> {
  const allowFallback = options.allowFallbackAdapter ?? false;
  const attempts: GPURequestAdapterOptions[] = [
    options.powerPreference === undefined ? {} : { powerPreference: options.powerPreference },
  ];
  if (allowFallback) attempts.push({ ...attempts[0], forceFallbackAdapter: true });
  for (const attempt of attempts) {
    let adapter: GPUAdapter | null;
    try {
      adapter = await gpu.requestAdapter(attempt);
    } catch (error) {
      tried.push(`${describeOptions(attempt)}: threw ${errorText(error)}`);
      continue;
    }
    if (adapter === null) {
      tried.push(`${describeOptions(attempt)}: null`);
      continue;
    }
    const { flaggedFallback, ...info } = adapterInfoOf(adapter);
    const software = isSoftwareAdapter(info, flaggedFallback);
    tried.push(
      `${describeOptions(attempt)}: ${adapterLabel(info)}${software ? ', a fallback (software) adapter' : ''}`,
    );
    if (software && !allowFallback) {
      tried.push('fallback adapter refused (allowFallbackAdapter: false)');
      return undefined;
    }
    return { adapter, info, isFallbackAdapter: software };
  }
  return undefined;
}

function expectation(options: GpuRequestOptions): string {
  return options.allowFallbackAdapter === true
    ? 'a WebGPU adapter (hardware or software)'
    : 'a hardware WebGPU adapter (allowFallbackAdapter: true accepts a software one)';
}

/**
 * Chooses an adapter from `source` and creates a device on it, with `shader-f16` and
 * `subgroups` when the adapter has them and the adapter's maxima of the compute limits.
 * Throws a {@link NoGpuAdapterError} listing every step when no adapter fits, and a
 * BackendError when the adapter refuses the device.
 *
 * @example
 * const handle = await requestGpuDevice({ gpu: navigator.gpu, tried: ['navigator.gpu: present'] }, { allowFallbackAdapter: true });
 * handle.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
 */
export async function requestGpuDevice(source: GpuSource, options: GpuRequestOptions = {}): Promise<GpuHandle> {
  const tried = [...source.tried];
  if (source.gpu === undefined) throw noAdapter('requestGpu', expectation(options), tried);
  const chosen = await chooseAdapter(source.gpu, options, tried);
  if (chosen === undefined) throw noAdapter('requestGpu', expectation(options), tried);
  const { adapter } = chosen;
  const missing = (options.requiredFeatures ?? []).filter((f) => !adapter.features.has(f));
  if (missing.length > 0) {
    tried.push(`requiredFeatures: ${adapterLabel(chosen.info)} lacks ${missing.map((f) => `'${f}'`).join(', ')}`);
    throw noAdapter('requestGpu', `an adapter with ${missing.map((f) => `'${f}'`).join(', ')}`, tried);
  }
  const features = new Set<GPUFeatureName>(options.requiredFeatures ?? []);
  const f16 = adapter.features.has('shader-f16');
  const subgroups = adapter.features.has('subgroups');
  if (f16) features.add('shader-f16');
  if (subgroups) features.add('subgroups');
  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[name];
    if (typeof value === 'number' && value > 0) requiredLimits[name] = value;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures: [...features], requiredLimits });
  } catch (error) {
    throw new BackendError(
      `requestGpu: requestDevice failed; expected a device on ${adapterLabel(chosen.info)} with features [${[...features].join(', ')}] and its maximum limits, got ${errorText(error)}`,
      { cause: error },
    );
  }
  return {
    device,
    adapterInfo: chosen.info,
    isFallbackAdapter: chosen.isFallbackAdapter,
    features: {
      f16: f16 && device.features.has('shader-f16'),
      subgroups: subgroups && device.features.has('subgroups'),
    },
  };
}

/**
 * Looks for a hardware adapter without creating a device: what `accelerator: 'auto'`
 * needs to decide. A software adapter counts as none (`adapter: null`), since the wasm
 * backend outruns it; `reason` says what was found either way.
 *
 * @example
 * const found = await detectGpuAdapter({ gpu: navigator.gpu, tried: [] });
 * found.adapter?.description // 'NVIDIA H100 80GB HBM3', or undefined with found.reason
 */
export async function detectGpuAdapter(
  source: GpuSource,
  options: Pick<GpuRequestOptions, 'powerPreference'> = {},
): Promise<GpuDetection> {
  const tried = [...source.tried];
  const request: GpuRequestOptions = { ...options, allowFallbackAdapter: false };
  if (source.gpu === undefined)
    return { adapter: null, reason: noAdapter('detectGpu', expectation(request), tried).message, tried };
  const chosen = await chooseAdapter(source.gpu, request, tried);
  if (chosen === undefined)
    return { adapter: null, reason: noAdapter('detectGpu', expectation(request), tried).message, tried };
  return {
    adapter: chosen.info,
    features: { f16: chosen.adapter.features.has('shader-f16'), subgroups: chosen.adapter.features.has('subgroups') },
    reason: `detectGpu: found ${adapterLabel(chosen.info)}`,
    tried,
  };
}
