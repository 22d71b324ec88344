/**
 * @module webgpu/parity — the parity run each runtime's runner shares: the cases of
 * test/backends/cases.ts on one backend against the reference, reported as one line.
 *
 * Web-standard only. The runner (deno.ts, node.ts, browser.ts) gets the backend through
 * its runtime's public entry and hands over two sinks: `report` for the result line that
 * webgpu-parity.test.ts parses, `progress` for one line per check (so a crash log ends
 * with the check that was running).
 */
import type { Backend } from '../../../runtime/backend.ts';
import { createReferenceBackend } from '../../../runtime/backends/reference/backend.ts';
import { runCases } from '../../backends/cases.ts';
import { adapterLabel } from '../../../runtime/backends/webgpu/device.ts';
import type { RequestWebGPUBackendOptions, RequestedWebGPUBackend } from '../../../runtime/backends/webgpu/request.ts';

/** Every line the runners print for the test starts with this. */
export const PARITY_PREFIX = 'parity ';

/** The backends a runner can be asked to check: webgpu, or wasm to prove the harness without a GPU. */
export type ParityBackendName = 'webgpu' | 'wasm';

/** The result line's payload. */
export interface ParityReport {
  readonly runtime: string;
  readonly backend: string;
  /** The adapter, as `requestGpu` reported it ('' for wasm). */
  readonly adapter: string;
  readonly dtypes: readonly string[];
  readonly total: number;
  readonly passed: number;
  readonly failureCount: number;
  /** The first 100 failures. */
  readonly failures: readonly string[];
  readonly seconds: number;
  /** Whether the WebGPU device has `subgroups` (false for wasm). */
  readonly subgroups: boolean;
  /** The WGSL program keys the run compiled, sorted (empty for wasm). */
  readonly programs: readonly string[];
}

/** What a runner tells {@link runParity} about a WebGPU backend, for the report. */
export interface ParityGpu {
  readonly subgroups: boolean;
  /** The program keys compiled so far (the backend's `stats().programs`). */
  programs(): readonly string[];
}

/**
 * The value of `--name=value` in `args`, e.g. `argValue(['--filter=matmul'], 'filter') === 'matmul'`.
 */
export function argValue(args: readonly string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** Parses `--backend=webgpu` / `?backend=wasm` values; anything else is an error. */
export function parseBackendName(value: string | null | undefined): ParityBackendName {
  const name = value ?? 'webgpu';
  if (name !== 'webgpu' && name !== 'wasm')
    throw new Error(`parity: unknown backend; expected 'webgpu' or 'wasm', got '${name}'`);
  return name;
}

/**
 * Which checks to run, for investigating one op by hand (`--filter=matmul`, `--skip=matmul`);
 * webgpu-parity.test.ts always runs them all.
 */
export interface ParityOptions {
  /** Only checks whose name contains this. */
  readonly filter?: string;
  /** No check whose name contains this. */
  readonly skip?: string;
  /** The WebGPU backend's features and program keys (absent for wasm). */
  readonly gpu?: ParityGpu;
}

/**
 * Runs every parity check on `backend` and reports.
 * @example await runParity('deno', backend, 'llvmpipe', console.log, (l) => console.error(l));
 */
export async function runParity(
  runtime: string,
  backend: Backend,
  adapter: string,
  report: (line: string) => void,
  progress: (line: string) => void,
  options: ParityOptions = {},
): Promise<ParityReport> {
  const started = Date.now();
  const reference = createReferenceBackend();
  report(`${PARITY_PREFIX}start ${runtime} ${backend.name} on ${adapter === '' ? 'the CPU' : adapter}`);
  const { filter, skip, gpu } = options;
  const selected = filter !== undefined || skip !== undefined;
  const result = await runCases(backend, reference, {
    ...(selected
      ? {
          filter: (name: string) =>
            (filter === undefined || name.includes(filter)) && (skip === undefined || !name.includes(skip)),
        }
      : {}),
    onCheck: (name, index, total) => progress(`${PARITY_PREFIX}check ${index + 1}/${total} ${name}`),
  });
  const out: ParityReport = {
    runtime,
    backend: backend.name,
    adapter,
    dtypes: backend.capabilities.dtypes,
    total: result.total,
    passed: result.passed,
    failureCount: result.failures.length,
    failures: result.failures.slice(0, 100),
    seconds: (Date.now() - started) / 1000,
    subgroups: gpu?.subgroups ?? false,
    programs: gpu?.programs() ?? [],
  };
  report(`${PARITY_PREFIX}report ${JSON.stringify(out)}`);
  return out;
}

/** What a runner needs from its runtime's public entry to build the backend under test. */
export interface ParityEntry {
  requestWebGPUBackend(options: RequestWebGPUBackendOptions): Promise<RequestedWebGPUBackend>;
  init(options: { deterministic: boolean }): Promise<Backend>;
}

/**
 * The backend a runner tests: WebGPU (software adapters allowed: CI has only those), or the
 * deterministic wasm backend (`--backend=wasm`, to check the harness itself), with the adapter
 * label and the subgroup report for WebGPU.
 * @example const { backend, adapter, gpu } = await parityBackend(lib, 'webgpu');
 */
export async function parityBackend(
  lib: ParityEntry,
  which: ParityBackendName,
): Promise<{ backend: Backend; adapter: string; gpu: ParityGpu | undefined }> {
  if (which !== 'webgpu') return { backend: await lib.init({ deterministic: true }), adapter: '', gpu: undefined };
  const requested = await lib.requestWebGPUBackend({ allowFallbackAdapter: true });
  const webgpu = requested.backend;
  return {
    backend: webgpu,
    adapter: adapterLabel(requested.gpu.adapterInfo),
    gpu: { subgroups: webgpu.features.subgroups, programs: () => webgpu.stats().programs },
  };
}
