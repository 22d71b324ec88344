/**
 * @module webgpu-parity.test — the backend parity suite (test/backends/cases.ts) on the
 * WebGPU backend in Deno, headless Chromium and Node, each in a child process, against
 * the reference; and the typed errors of Node's device acquisition with a real Dawn.
 *
 * CI has no GPU, so each runtime runs WebGPU on a CPU (software) adapter, which the
 * runners accept with `allowFallbackAdapter: true`:
 * - Deno: `navigator.gpu` (wgpu) on Mesa's lavapipe (apt mesa-vulkan-drivers);
 * - Chromium: `--enable-unsafe-webgpu`, on the SwiftShader that Chromium bundles;
 * - Node: the optional `webgpu` package (Dawn) with
 *   `VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json` (Dawn refuses Debian 12's
 *   lavapipe: "Vulkan shaderUniform*ArrayDynamicIndexing required").
 *
 * Each run must report zero failures AND exactly as many checks as the suite defines for
 * WebGPU's dtypes, so a runner that silently ran nothing (or less) fails. The report also
 * lists the WGSL program keys the run compiled: where the device has `subgroups` (Dawn and
 * Chromium on SwiftShader here) every subgroup program (`…_sg`) must be among them; where
 * it has not (Deno's lavapipe) none may be. test/runtimes/webgpu/subgroup-check.ts then
 * pushes the subgroup kernels past what the suite reaches, in Node. A runtime without
 * WebGPU fails with the runner's NoGpuAdapterError, which lists what was tried.
 *
 * Memory limits: a child passing MAX_RSS_MIB is killed and its test fails naming the check
 * that was running. Found on this machine (2026-11-26, Debian 12, Chromium 156's
 * SwiftShader 5.0.0, webgpu 0.6.2): SwiftShader never finishes compiling the matmul
 * pipeline `matmul_f32_t32x32x16_r4x4_ak1_bk1_o1` (check "matmul float32 NN 1x1@1x1"):
 * `device.createComputePipeline` blocks and resident memory grows by ~100 MB/s until the
 * kernel's OOM killer SIGKILLs the process (14 GB anon-rss in Node; 8 GB in Chromium's GPU
 * process within 2 minutes). That is the "intermittent Dawn crash": an OOM kill, not a
 * signal from Dawn itself. It reproduces with the WGSL alone, on a default device. Cutting
 * the shader down: without the 16 unrolled fma steps it compiles in 0.1 s; without the
 * in-loop prefetch loads (rA0..7/rB0..7 under `if (hasNext)`) in 3.2 s and 285 MB; with
 * the prefetch loads and a single fma step it still never finishes; without the barrier in
 * the K loop it still never finishes. The trigger is the 32 branchy prefetch loads
 * (`if (dd < u.M && kk < u.K) { rA0 = A[..]; } else { rA0 = 0.0; }`) feeding the fma
 * chain in the loop: written branch-free (`rA0 = select(0.0, A[min(i, arrayLength(&A) - 1u)],
 * dd < u.M && kk < u.K)`), the same kernel compiles in 2.3 s and 292 MB peak, and a plain
 * 16x16 tiled matmul with barriers in 0.14 s. lavapipe (Deno) compiled the original WGSL
 * and passed every check; Node and Chromium passed every check but matmul's (2097 of 2097
 * with `--skip=matmul`). Commit 9e427a7 rewrote the kernel's tile loads (scalar loads
 * filling whole vec4 slots); since then all three runtimes pass all 2185 checks (about
 * 30-40 s each here). The memory limits stay, so a regression fails this test with the
 * check's name instead of taking the machine's memory.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DType } from '../../runtime/dtype.ts';
import { parityChecks } from '../backends/cases.ts';
import { describeRun, mtime, newestMtime, runChild, type RunResult } from '../helpers/child-process.ts';
import { PARITY_PREFIX, type ParityReport } from './webgpu/parity.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** The dtypes the WebGPU backend declares (one 32-bit word per element; no float64). */
const WEBGPU_DTYPES: readonly DType[] = ['float32', 'int32', 'bool'];
/** A child's wall-clock limit, and the test's (the child's plus time to report). */
const RUN_TIMEOUT_MS = 300_000;
const TEST_TIMEOUT_MS = RUN_TIMEOUT_MS + 30_000;
/** Resident memory one runtime's processes may hold (see the module comment). */
const MAX_RSS_MIB = 4096;

function run(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
  timeoutMs = RUN_TIMEOUT_MS,
): Promise<RunResult> {
  return runChild(command, args, { cwd: ROOT, timeoutMs, env, maxRssMiB: MAX_RSS_MIB });
}

/** Rebuilds the wasm kernels and dist/ when missing or older than their sources. */
async function ensureBuilt(): Promise<void> {
  const wasmSources = Math.max(
    newestMtime(join(ROOT, 'assembly'), ['.ts']),
    mtime(join(ROOT, 'scripts', 'build-wasm.mjs')),
  );
  const wasmBuilt = Math.min(
    mtime(join(ROOT, 'build', 'kernels-simd.wasm')),
    mtime(join(ROOT, 'build', 'kernels-relaxed.wasm')),
  );
  if (wasmBuilt === 0 || wasmBuilt < wasmSources) {
    const r = await run(process.execPath, ['scripts/build-wasm.mjs'], {}, 300_000);
    if (r.code !== 0) throw new Error(describeRun('webgpu parity: npm run build:wasm failed; expected exit 0', r));
  }
  const tsSources = Math.max(
    newestMtime(join(ROOT, 'runtime'), ['.ts']),
    newestMtime(join(ROOT, 'bindings'), ['.ts']),
    newestMtime(join(ROOT, 'test', 'runtimes'), ['.ts']),
    newestMtime(join(ROOT, 'test', 'helpers'), ['.ts']),
    mtime(join(ROOT, 'test', 'backends', 'cases.ts')),
  );
  const tsBuilt = Math.min(
    mtime(join(ROOT, 'dist', 'test', 'runtimes', 'webgpu', 'node.js')),
    mtime(join(ROOT, 'dist', 'test', 'runtimes', 'webgpu', 'subgroup-check.js')),
    mtime(join(ROOT, 'dist', 'test', 'runtimes', 'webgpu', 'browser.js')),
    mtime(join(ROOT, 'dist', 'test', 'runtimes', 'webgpu', 'run-browser.js')),
    mtime(join(ROOT, 'dist', 'test', 'backends', 'cases.js')),
  );
  if (tsBuilt === 0 || tsBuilt < tsSources) {
    const r = await run(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      {},
      300_000,
    );
    if (r.code !== 0) throw new Error(describeRun('webgpu parity: npm run build:ts failed; expected exit 0', r));
  }
}

/** The report line of a runner's output, or a failure that shows how the run ended. */
function reportOf(name: string, r: RunResult): ParityReport {
  const line = r.stdout.split('\n').find((l) => l.startsWith(`${PARITY_PREFIX}report `));
  if (line === undefined) {
    const error = r.stdout.split('\n').find((l) => l.startsWith(`${PARITY_PREFIX}error `));
    throw new Error(
      `${describeRun(`${name}: no parity report; expected a '${PARITY_PREFIX}report' line${error === undefined ? '' : `, got ${error}`}`, r)}`,
    );
  }
  return JSON.parse(line.slice(`${PARITY_PREFIX}report `.length)) as ParityReport;
}

/**
 * The subgroup programs a run must have compiled when its device has subgroups: the
 * parity suite's long-axis reductions ([4,1000]) take the `_tree_sg` programs, and its
 * matmuls with M <= 4 the subgroup kernel (with and without bias).
 */
const SUBGROUP_PROGRAMS: readonly string[] = [
  ...['sum', 'max', 'min', 'argmax', 'argmin'].flatMap((op) => [`${op}_f32_tree_sg`, `${op}_i32_tree_sg`]),
  'matmul_f32_sg_r4x128',
  'matmul_f32_sg_r4x128_bias',
];

/**
 * Asserts a complete, clean WebGPU run; and that the subgroup programs ran exactly when
 * the device has subgroups (`subgroups` says what the runtime must report, or undefined
 * when either is fine, as for Chromium, whose SwiftShader may or may not expose them).
 */
function expectClean(name: string, r: RunResult, subgroups: boolean | undefined): void {
  const report = reportOf(name, r);
  const expected = parityChecks(WEBGPU_DTYPES).length;
  const context = `${name}: ${report.passed}/${report.total} checks passed on ${report.adapter} in ${report.seconds} s; ${report.failureCount} failed:\n${report.failures.join('\n')}`;
  expect(report.backend, context).toBe('webgpu');
  expect(report.dtypes, context).toEqual(WEBGPU_DTYPES);
  expect(report.failureCount, context).toBe(0);
  expect(report.total, `${context}\n(the suite defines ${expected} checks for ${WEBGPU_DTYPES.join(', ')})`).toBe(
    expected,
  );
  expect(report.passed, context).toBe(expected);
  expect(r.code, describeRun(name, r)).toBe(0);
  if (subgroups !== undefined) expect(report.subgroups, `${name}: the device's subgroups feature`).toBe(subgroups);
  const sgRan = report.programs.filter((k) => k.endsWith('_sg') || k.includes('_sg_'));
  expect(report.programs.length, `${name}: program keys reported`).toBeGreaterThan(50);
  if (report.subgroups) {
    expect(sgRan, `${name}: subgroup programs compiled`).toEqual(expect.arrayContaining([...SUBGROUP_PROGRAMS]));
    // The tiled matmul and the plain reduction tree still run beside them (M > 4; no other tree shapes).
    expect(
      report.programs.some((k) => k.startsWith('matmul_f32_t')),
      `${name}: tiled matmul programs`,
    ).toBe(true);
  } else {
    expect(sgRan, `${name}: no subgroup program on a device without subgroups`).toEqual([]);
    expect(report.programs, `${name}: the plain reduction tree`).toContain('sum_f32_tree');
  }
  console.info(
    `${name}: ${report.passed}/${expected} parity checks passed on ${report.adapter} in ${report.seconds} s; subgroups ${report.subgroups}; subgroup programs run: ${sgRan.join(', ') || 'none'}`,
  );
}

describe('webgpu parity', () => {
  beforeAll(ensureBuilt, 600_000);

  it('webgpu parity: the suite defines checks for every WebGPU dtype', () => {
    const checks = parityChecks(WEBGPU_DTYPES);
    expect(checks.length).toBeGreaterThan(1000);
    for (const dtype of WEBGPU_DTYPES)
      expect(
        checks.some((c) => c.name.includes(` ${dtype} `)),
        dtype,
      ).toBe(true);
    expect(new Set(checks.map((c) => c.name)).size, 'check names are unique').toBe(checks.length);
  });

  it(
    'webgpu parity: deno (navigator.gpu on lavapipe) matches the reference on every check',
    async () => {
      expect(
        existsSync(DENO),
        `webgpu parity: Deno not found; expected ${DENO} (npm ci installs the deno package), got nothing there`,
      ).toBe(true);
      expectClean('deno', await run(DENO, ['run', '-A', '--no-prompt', 'test/runtimes/webgpu/deno.ts']), false);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'webgpu parity: chromium (--enable-unsafe-webgpu, SwiftShader) matches the reference on every check',
    async () => {
      expect(
        existsSync(CHROMIUM),
        `webgpu parity: Chromium not found; expected an executable at ${CHROMIUM} (apt-get install -y chromium; .ci/run does), got nothing there`,
      ).toBe(true);
      expectClean(
        'chromium',
        await run(process.execPath, ['dist/test/runtimes/webgpu/run-browser.js'], {
          PARITY_TIMEOUT_MS: String(RUN_TIMEOUT_MS - 20_000),
          PARITY_MAX_RSS_MIB: String(MAX_RSS_MIB),
        }),
        true,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'webgpu parity: node (the webgpu package, Dawn on SwiftShader) matches the reference on every check',
    async () => {
      expect(
        existsSync(SWIFTSHADER_ICD),
        `webgpu parity: SwiftShader's Vulkan driver not found; expected ${SWIFTSHADER_ICD} (apt-get install -y chromium), got nothing there`,
      ).toBe(true);
      expectClean(
        'node',
        await run(process.execPath, ['dist/test/runtimes/webgpu/node.js'], { VK_ICD_FILENAMES: SWIFTSHADER_ICD }),
        true,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it('webgpu parity: node (Dawn on SwiftShader, which has subgroups): the subgroup kernels on every matmul layout past their shape rule, and the …_tree_sg reductions on NaNs, ties and signed zeros, run twice', async () => {
    const r = await run(
      process.execPath,
      ['dist/test/runtimes/webgpu/subgroup-check.js'],
      { VK_ICD_FILENAMES: SWIFTSHADER_ICD },
      120_000,
    );
    const lines = r.stdout.split('\n');
    expect(
      lines.filter((l) => l.startsWith('FAIL ')),
      describeRun('subgroup-check', r),
    ).toEqual([]);
    // 48 matmul cases (6 shapes x 4 layouts x bias or not), 100 reductions, and the program-key check.
    expect(lines.filter((l) => l.startsWith('ok ')).length, describeRun('subgroup-check', r)).toBe(149);
    expect(r.stdout).toMatch(/^subgroup-check: 149 cases, all passed$/m);
    expect(r.code, describeRun('subgroup-check', r)).toBe(0);
  }, 150_000);

  it('webgpu parity: node with no Vulkan driver rejects requestGpu with a NoGpuAdapterError that lists each step, and detectGpu says none', async () => {
    const script = [
      "const lib = await import('./dist/bindings/node.js');",
      'const detected = await lib.nodePlatform.detectGpu({});',
      'try { await lib.nodePlatform.requestGpu({ powerPreference: "high-performance", allowFallbackAdapter: true }); console.log("no error"); }',
      'catch (e) { console.log(JSON.stringify({ name: e.name, isBackendError: e instanceof lib.BackendError, tried: e.tried, message: e.message, detected })); }',
      'process.exit(0);',
    ].join('\n');
    const r = await run(
      process.execPath,
      ['--input-type=module', '-e', script],
      { VK_ICD_FILENAMES: '/nonexistent/no_such_icd.json' },
      60_000,
    );
    expect(r.code, describeRun('node without a driver', r)).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
      name: string;
      isBackendError: boolean;
      tried: string[];
      message: string;
      detected: { adapter: unknown; reason: string };
    };
    expect(out.name, r.stdout).toBe('NoGpuAdapterError');
    expect(out.isBackendError).toBe(true);
    expect(out.tried).toEqual([
      'webgpu package: loaded (Dawn); VK_ICD_FILENAMES=/nonexistent/no_such_icd.json',
      "requestAdapter({powerPreference:'high-performance'}): null",
      "requestAdapter({powerPreference:'high-performance',forceFallbackAdapter:true}): null",
    ]);
    expect(out.message).toMatch(
      /^requestGpu: no usable WebGPU adapter; expected a WebGPU adapter \(hardware or software\), got none \(tried: webgpu package: loaded/,
    );
    expect(out.detected.adapter).toBeNull();
    expect(out.detected.reason).toMatch(/^detectGpu: no usable WebGPU adapter; .*requestAdapter\(\{\}\): null\)$/);
  }, 90_000);

  it("webgpu parity: node on SwiftShader refuses the software adapter unless allowed, and detectGpu reports none (so accelerator 'auto' stays on wasm)", async () => {
    const script = [
      "const lib = await import('./dist/bindings/node.js');",
      'const detected = await lib.nodePlatform.detectGpu({});',
      'let refused; try { await lib.nodePlatform.requestGpu({}); } catch (e) { refused = { name: e.name, tried: e.tried }; }',
      'const allowed = await lib.nodePlatform.requestGpu({ allowFallbackAdapter: true });',
      'console.log(JSON.stringify({ detected, refused, allowed: { isFallbackAdapter: allowed.isFallbackAdapter, adapterInfo: allowed.adapterInfo, features: allowed.features, maxBinding: allowed.device.limits.maxStorageBufferBindingSize } }));',
      'allowed.device.destroy(); process.exit(0);',
    ].join('\n');
    const r = await run(
      process.execPath,
      ['--input-type=module', '-e', script],
      { VK_ICD_FILENAMES: SWIFTSHADER_ICD },
      60_000,
    );
    expect(r.code, describeRun('node on SwiftShader', r)).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
      detected: { adapter: unknown; reason: string };
      refused?: { name: string; tried: string[] };
      allowed: {
        isFallbackAdapter: boolean;
        adapterInfo: { architecture: string };
        features: { subgroups: boolean };
        maxBinding: number;
      };
    };
    expect(out.detected.adapter, r.stdout).toBeNull();
    expect(out.detected.reason).toContain('fallback adapter refused (allowFallbackAdapter: false)');
    expect(out.refused?.name).toBe('NoGpuAdapterError');
    expect(out.refused?.tried.at(-1)).toBe('fallback adapter refused (allowFallbackAdapter: false)');
    expect(out.allowed.isFallbackAdapter).toBe(true);
    expect(out.allowed.adapterInfo.architecture).toBe('swiftshader');
    expect(out.allowed.features.subgroups).toBe(true);
    // The adapter's maximum, not WebGPU's 128 MiB default.
    expect(out.allowed.maxBinding).toBe(2 ** 30);
  }, 90_000);
});
