/**
 * @module webgpu-device.test — adapter choice and device creation (runtime/backends/webgpu/device.ts)
 * over stub `GPU` objects, and the host sources of bindings/ (Dawn's package, navigator.gpu).
 *
 * The stubs record what was asked of them, so the tests check the requests themselves:
 * the power preference, the fallback retry, the features and the adapter-maximum limits.
 * The real hosts (Dawn with no driver, SwiftShader refused) run in
 * test/runtimes/webgpu-parity.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendError, NoGpuAdapterError } from '../../runtime/errors.ts';
import { detectGpuAdapter, isSoftwareAdapter, requestGpuDevice } from '../../runtime/backends/webgpu/device.ts';
import type { GpuSource } from '../../runtime/backends/webgpu/device.ts';
import { dawnGpuSource, skipDawnProbe } from '../../bindings/gpu-node.ts';
import { navigatorGpuSource } from '../../bindings/gpu-navigator.ts';

interface StubAdapterSpec {
  readonly description?: string;
  readonly vendor?: string;
  readonly architecture?: string;
  readonly isFallbackAdapter?: boolean;
  readonly features?: readonly string[];
  readonly limits?: Readonly<Record<string, number>>;
  readonly deviceFails?: Error;
}

const LIMITS = {
  maxStorageBufferBindingSize: 2 ** 31,
  maxBufferSize: 2 ** 33,
  maxComputeWorkgroupStorageSize: 65536,
  maxComputeInvocationsPerWorkgroup: 1024,
  maxComputeWorkgroupSizeX: 1024,
  maxComputeWorkgroupSizeY: 1024,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBuffersPerShaderStage: 16,
  maxTextureDimension2D: 16384,
};

/** A stub GPU whose requestAdapter answers from `answers` in turn; records every call. */
function stubGpu(answers: readonly (StubAdapterSpec | null | Error)[]): {
  gpu: GPU;
  adapterCalls: GPURequestAdapterOptions[];
  deviceCalls: GPUDeviceDescriptor[];
} {
  const adapterCalls: GPURequestAdapterOptions[] = [];
  const deviceCalls: GPUDeviceDescriptor[] = [];
  let n = 0;
  const gpu = {
    async requestAdapter(options?: GPURequestAdapterOptions) {
      adapterCalls.push(options ?? {});
      const answer = answers[Math.min(n++, answers.length - 1)];
      if (answer instanceof Error) throw answer;
      if (answer === null || answer === undefined) return null;
      const features = new Set(answer.features ?? []);
      return {
        info: {
          vendor: answer.vendor ?? 'nvidia',
          architecture: answer.architecture ?? 'hopper',
          device: '0x2330',
          description: answer.description ?? 'NVIDIA H100 80GB HBM3',
          isFallbackAdapter: answer.isFallbackAdapter ?? false,
        },
        features,
        limits: answer.limits ?? LIMITS,
        async requestDevice(descriptor: GPUDeviceDescriptor) {
          deviceCalls.push(descriptor);
          if (answer.deviceFails !== undefined) throw answer.deviceFails;
          return { features: new Set(descriptor.requiredFeatures ?? []), destroy: () => undefined };
        },
      };
    },
  } as unknown as GPU;
  return { gpu, adapterCalls, deviceCalls };
}

function source(gpu: GPU | undefined, tried: readonly string[] = ['stub: present']): GpuSource {
  return { gpu, tried };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, got a value');
}

describe('webgpu device', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('webgpu device: no GPU object is a NoGpuAdapterError (a BackendError) that lists the host step', async () => {
    const error = await rejection(requestGpuDevice(source(undefined, ['navigator.gpu: absent']), {}));
    expect(error).toBeInstanceOf(NoGpuAdapterError);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as NoGpuAdapterError).tried).toEqual(['navigator.gpu: absent']);
    expect((error as Error).message).toBe(
      'requestGpu: no usable WebGPU adapter; expected a hardware WebGPU adapter (allowFallbackAdapter: true accepts a software one), got none (tried: navigator.gpu: absent)',
    );
  });

  it('webgpu device: a null adapter is listed with the options asked; allowFallbackAdapter retries with forceFallbackAdapter', async () => {
    const strict = stubGpu([null]);
    const e1 = await rejection(requestGpuDevice(source(strict.gpu), { powerPreference: 'high-performance' }));
    expect(e1).toBeInstanceOf(NoGpuAdapterError);
    expect((e1 as NoGpuAdapterError).tried).toEqual([
      'stub: present',
      "requestAdapter({powerPreference:'high-performance'}): null",
    ]);
    expect(strict.adapterCalls).toEqual([{ powerPreference: 'high-performance' }]);

    const lenient = stubGpu([null]);
    const e2 = await rejection(
      requestGpuDevice(source(lenient.gpu), { powerPreference: 'low-power', allowFallbackAdapter: true }),
    );
    expect((e2 as NoGpuAdapterError).tried).toEqual([
      'stub: present',
      "requestAdapter({powerPreference:'low-power'}): null",
      "requestAdapter({powerPreference:'low-power',forceFallbackAdapter:true}): null",
    ]);
    expect((e2 as Error).message).toMatch(
      /^requestGpu: no usable WebGPU adapter; expected a WebGPU adapter \(hardware or software\), got none \(tried: /,
    );
  });

  it('webgpu device: a throwing requestAdapter is listed, not rethrown', async () => {
    const { gpu } = stubGpu([new TypeError('adapter exploded')]);
    const error = await rejection(requestGpuDevice(source(gpu), {}));
    expect((error as NoGpuAdapterError).tried).toEqual([
      'stub: present',
      'requestAdapter({}): threw TypeError: adapter exploded',
    ]);
  });

  it('webgpu device: a fallback adapter is refused by default and accepted with allowFallbackAdapter', async () => {
    const swiftshader: StubAdapterSpec = {
      description: 'SwiftShader driver 5.0.0',
      vendor: 'google',
      architecture: 'swiftshader',
      isFallbackAdapter: true,
    };
    const refused = await rejection(requestGpuDevice(source(stubGpu([swiftshader]).gpu), {}));
    expect(refused).toBeInstanceOf(NoGpuAdapterError);
    expect((refused as NoGpuAdapterError).tried).toEqual([
      'stub: present',
      'requestAdapter({}): SwiftShader driver 5.0.0 (google swiftshader), a fallback (software) adapter',
      'fallback adapter refused (allowFallbackAdapter: false)',
    ]);
    const handle = await requestGpuDevice(source(stubGpu([swiftshader]).gpu), { allowFallbackAdapter: true });
    expect(handle.isFallbackAdapter).toBe(true);
    expect(handle.adapterInfo).toEqual({
      vendor: 'google',
      architecture: 'swiftshader',
      device: '0x2330',
      description: 'SwiftShader driver 5.0.0',
    });
  });

  it('webgpu device: a CPU rasteriser that does not flag itself still counts as a fallback adapter', async () => {
    const llvmpipe: StubAdapterSpec = {
      description: 'llvmpipe (LLVM 15.0.6, 256 bits)',
      vendor: '65541',
      architecture: '',
      isFallbackAdapter: false,
    };
    const error = await rejection(requestGpuDevice(source(stubGpu([llvmpipe]).gpu), {}));
    expect((error as NoGpuAdapterError).tried).toContain('fallback adapter refused (allowFallbackAdapter: false)');
    expect(
      isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100' }, false),
    ).toBe(false);
    expect(
      isSoftwareAdapter(
        { vendor: '', architecture: '', device: '', description: 'Microsoft Basic Render Driver' },
        undefined,
      ),
    ).toBe(true);
  });

  it('webgpu device: the device asks for shader-f16 and subgroups when the adapter has them, and the adapter maximum of each compute limit', async () => {
    const stub = stubGpu([{ features: ['shader-f16', 'subgroups', 'timestamp-query'] }]);
    const handle = await requestGpuDevice(source(stub.gpu), { powerPreference: 'high-performance' });
    expect(handle.features).toEqual({ f16: true, subgroups: true });
    expect(handle.isFallbackAdapter).toBe(false);
    expect(stub.deviceCalls).toHaveLength(1);
    expect([...(stub.deviceCalls[0]!.requiredFeatures ?? [])].sort()).toEqual(['shader-f16', 'subgroups']);
    const { maxTextureDimension2D: _unused, ...compute } = LIMITS;
    expect(stub.deviceCalls[0]!.requiredLimits).toEqual(compute);

    const plain = stubGpu([{ features: [] }]);
    const h2 = await requestGpuDevice(source(plain.gpu), {});
    expect(h2.features).toEqual({ f16: false, subgroups: false });
    expect(plain.deviceCalls[0]!.requiredFeatures).toEqual([]);
  });

  it('webgpu device: a required feature the adapter lacks is a NoGpuAdapterError naming it; one it has is requested', async () => {
    const error = await rejection(
      requestGpuDevice(source(stubGpu([{ features: ['shader-f16'] }]).gpu), {
        requiredFeatures: ['timestamp-query', 'shader-f16'],
      }),
    );
    expect(error).toBeInstanceOf(NoGpuAdapterError);
    expect((error as NoGpuAdapterError).tried.at(-1)).toBe(
      "requiredFeatures: NVIDIA H100 80GB HBM3 (nvidia hopper) lacks 'timestamp-query'",
    );
    expect((error as Error).message).toMatch(
      /^requestGpu: no usable WebGPU adapter; expected an adapter with 'timestamp-query', got none/,
    );
    const stub = stubGpu([{ features: ['timestamp-query'] }]);
    await requestGpuDevice(source(stub.gpu), { requiredFeatures: ['timestamp-query'] });
    expect(stub.deviceCalls[0]!.requiredFeatures).toEqual(['timestamp-query']);
  });

  it('webgpu device: a refused requestDevice is a BackendError with the cause, not a missing adapter', async () => {
    const cause = new Error('OperationError: limits too high');
    const error = await rejection(requestGpuDevice(source(stubGpu([{ deviceFails: cause }]).gpu), {}));
    expect(error).toBeInstanceOf(BackendError);
    expect(error).not.toBeInstanceOf(NoGpuAdapterError);
    expect((error as Error).cause).toBe(cause);
    expect((error as Error).message).toMatch(
      /^requestGpu: requestDevice failed; expected a device on NVIDIA H100 80GB HBM3 \(nvidia hopper\) with features \[\] and its maximum limits, got Error: OperationError: limits too high$/,
    );
  });

  it('webgpu device: detectGpuAdapter finds a hardware adapter without creating a device, and reports a software one as none', async () => {
    const hw = stubGpu([{ features: ['shader-f16'] }]);
    const found = await detectGpuAdapter(source(hw.gpu), { powerPreference: 'high-performance' });
    expect(found.adapter?.description).toBe('NVIDIA H100 80GB HBM3');
    expect(found.adapter === null ? undefined : found.features).toEqual({ f16: true, subgroups: false });
    expect(hw.deviceCalls).toHaveLength(0);

    const sw = await detectGpuAdapter(
      source(stubGpu([{ description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true }]).gpu),
    );
    expect(sw.adapter).toBeNull();
    expect(sw.reason).toMatch(
      /^detectGpu: no usable WebGPU adapter; expected a hardware WebGPU adapter .*fallback adapter refused \(allowFallbackAdapter: false\)\)$/,
    );
    const none = await detectGpuAdapter(source(undefined, ['webgpu package: not installed']));
    expect(none).toMatchObject({ adapter: null, tried: ['webgpu package: not installed'] });
  });

  it("webgpu device: Node's source says when the webgpu package is missing or broken, and requestGpu lists it", async () => {
    const missing = Object.assign(new Error("Cannot find package 'webgpu' imported from /x.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const notInstalled = await dawnGpuSource(() => Promise.reject(missing));
    expect(notInstalled).toEqual({
      gpu: undefined,
      tried: [
        'webgpu package: not installed (an optional peer dependency, not installed by default: npm install webgpu)',
      ],
    });
    const error = await rejection(requestGpuDevice(notInstalled, {}));
    expect((error as Error).message).toBe(
      'requestGpu: no usable WebGPU adapter; expected a hardware WebGPU adapter (allowFallbackAdapter: true accepts a software one), got none (tried: webgpu package: not installed (an optional peer dependency, not installed by default: npm install webgpu))',
    );
    const broken = await dawnGpuSource(() =>
      Promise.reject(new Error('libvulkan.so.1: cannot open shared object file\nmore')),
    );
    expect(broken.tried).toEqual(['webgpu package: failed to load (libvulkan.so.1: cannot open shared object file)']);
    const throwing = await dawnGpuSource(async () => ({
      create: () => {
        throw new Error('no instance');
      },
      globals: {},
    }));
    expect(throwing.tried).toEqual(['webgpu package: loaded, but create() threw (no instance)']);
  });

  it("webgpu device: Node's detectGpu skips loading Dawn only on Linux with no GPU device node and no Vulkan driver named", () => {
    const none = (): boolean => false;
    const noDri = (): string[] => [];
    expect(skipDawnProbe('linux', {}, none, noDri)).toMatch(
      /^no GPU device node on this Linux host \(looked for \/dev\/dri\/renderD\*, \/dev\/nvidia0/,
    );
    expect(
      skipDawnProbe('linux', {}, none, () => ['card0', 'renderD128']),
      'a DRM render node',
    ).toBeUndefined();
    expect(
      skipDawnProbe('linux', {}, (p) => p === '/dev/nvidia0', noDri),
      "NVIDIA's device node",
    ).toBeUndefined();
    expect(
      skipDawnProbe('linux', {}, (p) => p === '/dev/dxg', noDri),
      'WSL',
    ).toBeUndefined();
    expect(
      skipDawnProbe('linux', { VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json' }, none, noDri),
      'a driver named explicitly',
    ).toBeUndefined();
    expect(skipDawnProbe('darwin', {}, none, noDri), 'other systems always probe').toBeUndefined();
  });

  it('webgpu device: navigator.gpu absent is named, with the secure-context reason in a browser', () => {
    vi.stubGlobal('navigator', {});
    expect(navigatorGpuSource('deno').tried).toEqual([
      'navigator.gpu: absent (Deno 2 exposes it; Deno 1 needs --unstable-webgpu)',
    ]);
    vi.stubGlobal('isSecureContext', false);
    expect(navigatorGpuSource('browser').tried).toEqual([
      'navigator.gpu: absent (not a secure context; WebGPU needs https or localhost)',
    ]);
    vi.stubGlobal('isSecureContext', true);
    expect(navigatorGpuSource('browser').tried[0]).toMatch(
      /^navigator\.gpu: absent \(this browser has no WebGPU or has it off; Chromium on Linux needs --enable-unsafe-webgpu\)$/,
    );
    const gpu = { requestAdapter: async () => null } as unknown as GPU;
    vi.stubGlobal('navigator', { gpu });
    expect(navigatorGpuSource('browser')).toEqual({ gpu, tried: ['navigator.gpu: present'] });
  });
});
