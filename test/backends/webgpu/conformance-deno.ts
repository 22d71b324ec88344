/**
 * @module webgpu/conformance-deno — every parity case of test/backends/cases.ts on the WebGPU
 * backend against the reference, in Deno (navigator.gpu).
 *
 * `node_modules/.bin/deno run -A test/backends/webgpu/conformance-deno.ts [substring]`
 * prints one line per failure and a summary; exits 1 on any failure. A substring argument
 * runs only the cases whose name contains it.
 */
import { createReferenceBackend } from '../../../runtime/backends/reference/backend.ts';
import { createWebGPUBackend } from '../../../runtime/backends/webgpu/backend.ts';
import { runCases } from '../cases.ts';

declare const Deno: { args: string[]; exit(code: number): never };

const adapter = await navigator.gpu.requestAdapter();
if (adapter === null)
  throw new Error('webgpu conformance: no adapter; expected navigator.gpu.requestAdapter() to give one, got null');
const requiredFeatures: GPUFeatureName[] = adapter.features.has('shader-f16') ? ['shader-f16'] : [];
const device = await adapter.requestDevice({ requiredFeatures });
const backend = createWebGPUBackend({ device, adapterInfo: adapter.info });
const filter = Deno.args[0];
const started = performance.now();
const result = await runCases(
  backend,
  createReferenceBackend(),
  filter === undefined ? {} : { filter: (name) => name.includes(filter) },
);
for (const f of result.failures) console.log(`FAIL ${f}`);
console.log(
  `webgpu conformance (${adapter.info.description || adapter.info.vendor}): ${result.passed} of ${result.total} passed in ${((performance.now() - started) / 1000).toFixed(1)} s; ${JSON.stringify(backend.stats())}`,
);
backend.dispose();
Deno.exit(result.failures.length === 0 ? 0 : 1);
