/**
 * @module webgpu/node — the parity suite in Node, through the Node entry's `requestWebGPUBackend`.
 *
 * Run: `npm run build:ts && node dist/test/runtimes/webgpu/node.js [--backend=webgpu|wasm] [--filter=<text>] [--skip=<text>]`.
 * WebGPU comes from the optional `webgpu` package (Dawn). On a machine without a GPU, Dawn
 * needs a Vulkan driver it accepts: Chromium's SwiftShader,
 * `VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json` (Dawn refuses Debian 12's
 * lavapipe: no shaderUniform*ArrayDynamicIndexing). A software adapter, so the runner
 * allows the fallback adapter. Exit status 0 when the run finished (failures are in the
 * report line), 1 when it could not run.
 */
import * as lib from '../../../bindings/node.ts';
import { argValue, parityBackend, parseBackendName, runParity, PARITY_PREFIX } from './parity.ts';

try {
  const which = parseBackendName(argValue(process.argv, 'backend'));
  const filter = argValue(process.argv, 'filter');
  const skip = argValue(process.argv, 'skip');
  const { backend, adapter, gpu } = await parityBackend(lib, which);
  // Resident memory beside each check: a leak on the GPU path shows as growth here.
  const progress = (line: string): void => {
    process.stderr.write(`${line} (rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB)\n`);
  };
  await runParity('node', backend, adapter, (line) => console.log(line), progress, {
    ...(filter === undefined ? {} : { filter }),
    ...(skip === undefined ? {} : { skip }),
    ...(gpu === undefined ? {} : { gpu }),
  });
  backend.dispose();
  process.exit(0);
} catch (error) {
  console.log(
    `${PARITY_PREFIX}error ${JSON.stringify(error instanceof Error ? `${error.name}: ${error.message}` : String(error))}`,
  );
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
}
