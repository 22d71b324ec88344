/**
 * @module gpu-node — Node's WebGPU: the optional `webgpu` package (Dawn), loaded on first use.
 *
 * Node has no `navigator.gpu`. The `webgpu` package ships Dawn as a native addon (~130 MB);
 * it is an optional peer dependency that npm does not install by default, so an install
 * without it runs on the wasm backend, and asking for a GPU then says `npm install webgpu`.
 * Dawn picks its Vulkan driver through the Vulkan loader: `VK_ICD_FILENAMES` names one driver
 * manifest (for example Chromium's SwiftShader, `/usr/lib/chromium/vk_swiftshader_icd.json`,
 * on a machine without a GPU).
 */
import { existsSync, readdirSync } from 'node:fs';
import type { GpuSource } from '../runtime/backends/webgpu/device.ts';

/** What `import('webgpu')` gives: a factory for Dawn's `GPU`, and the WebGPU globals (GPUBufferUsage, ...). */
export interface DawnModule {
  create(flags: string[]): GPU;
  readonly globals: object;
}

/** Imports the `webgpu` package; a parameter so tests can stand in a missing or broken one. */
export type DawnImporter = () => Promise<DawnModule>;

/** The package is named through a variable so the compiler does not require it to be installed. */
const PACKAGE = 'webgpu';

const importDawn: DawnImporter = async () => (await import(PACKAGE)) as DawnModule;

/**
 * Dawn leaves the WebGPU namespaces (`GPUBufferUsage`, `GPUMapMode`, `GPUShaderStage`, ...)
 * in `globals` rather than on globalThis, where browsers and Deno have them and where
 * runtime/ code expects them. Only names the host lacks are set.
 */
function installGlobals(globals: object): void {
  for (const [name, value] of Object.entries(globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
  }
}

function vulkanDriverNote(): string {
  const icd = process.env['VK_ICD_FILENAMES'] ?? process.env['VK_DRIVER_FILES'];
  return icd === undefined
    ? "VK_ICD_FILENAMES unset (the Vulkan loader's installed drivers)"
    : `VK_ICD_FILENAMES=${icd}`;
}

function isModuleMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    String((error as Error).message).includes(`'${PACKAGE}'`)
  );
}

/**
 * Loads Dawn and creates its `GPU`, once per importer. Never throws: a missing or broken
 * package comes back as `gpu: undefined` with the reason in `tried`.
 *
 * @example
 * const source = await dawnGpuSource();
 * source.tried // ['webgpu package: loaded (Dawn); VK_ICD_FILENAMES unset (...)']
 */
export async function dawnGpuSource(load: DawnImporter = importDawn): Promise<GpuSource> {
  let mod: DawnModule;
  try {
    mod = await load();
  } catch (error) {
    const why = isModuleMissing(error)
      ? 'not installed (an optional peer dependency, not installed by default: npm install webgpu)'
      : `failed to load (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
    return { gpu: undefined, tried: [`webgpu package: ${why}`] };
  }
  try {
    installGlobals(mod.globals);
    return { gpu: mod.create([]), tried: [`webgpu package: loaded (Dawn); ${vulkanDriverNote()}`] };
  } catch (error) {
    return {
      gpu: undefined,
      tried: [`webgpu package: loaded, but create() threw (${error instanceof Error ? error.message : String(error)})`],
    };
  }
}

let cached: Promise<GpuSource> | undefined;

/**
 * The process's one Dawn `GPU` (Dawn's instance is process-wide state, made on first use).
 * @example const { gpu } = await nodeGpuSource();
 */
export function nodeGpuSource(): Promise<GpuSource> {
  cached ??= dawnGpuSource();
  return cached;
}

/** Device nodes a Linux GPU driver creates (DRM render nodes, NVIDIA's, WSL's, AMD's compute node). */
const LINUX_GPU_NODES = ['/dev/nvidia0', '/dev/nvidiactl', '/dev/dxg', '/dev/kfd'];

/**
 * Why `detectGpu` need not load Dawn at all, or undefined when it should: on Linux without
 * a GPU device node and without a Vulkan driver named in the environment, no hardware
 * adapter can exist, and loading Dawn would cost ~80 ms and ~60 MB and print the Vulkan
 * loader's complaints about the CPU drivers to stderr, at every `accelerator: 'auto'` start.
 * `requestGpu` (an explicit request) always loads Dawn.
 * @example skipDawnProbe() // "no GPU device node on this Linux host (looked for /dev/dri/renderD*, …)"
 */
export function skipDawnProbe(
  platform: string = process.platform,
  env: Record<string, string | undefined> = process.env,
  exists: (path: string) => boolean = existsSync,
  list: (dir: string) => string[] = safeList,
): string | undefined {
  if (platform !== 'linux') return undefined;
  if (env['VK_ICD_FILENAMES'] !== undefined || env['VK_DRIVER_FILES'] !== undefined) return undefined;
  if (list('/dev/dri').some((name) => name.startsWith('renderD'))) return undefined;
  if (LINUX_GPU_NODES.some((node) => exists(node))) return undefined;
  return `no GPU device node on this Linux host (looked for /dev/dri/renderD*, ${LINUX_GPU_NODES.join(', ')}); the webgpu package (Dawn) was not loaded`;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
