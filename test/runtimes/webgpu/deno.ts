/**
 * @module webgpu/deno — the parity suite in Deno, through the Deno entry's `requestWebGPUBackend`.
 *
 * Run: `deno run -A test/runtimes/webgpu/deno.ts [--backend=webgpu|wasm] [--filter=<text>] [--skip=<text>]`. On a machine
 * without a GPU, Deno's `navigator.gpu` finds Mesa's lavapipe (mesa-vulkan-drivers), a
 * software adapter, so the runner allows the fallback adapter. Exit status 0 when the run
 * finished (failures are in the report line), 1 when it could not run.
 */
import * as lib from '../../../bindings/deno.ts';
import { argValue, parityBackend, parseBackendName, runParity, PARITY_PREFIX } from './parity.ts';

interface DenoApi {
  readonly args: readonly string[];
  exit(code: number): never;
}
const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

try {
  const which = parseBackendName(argValue(Deno.args, 'backend'));
  const filter = argValue(Deno.args, 'filter');
  const skip = argValue(Deno.args, 'skip');
  const { backend, adapter, gpu } = await parityBackend(lib, which);
  await runParity(
    'deno',
    backend,
    adapter,
    (line) => console.log(line),
    (line) => console.error(line),
    {
      ...(filter === undefined ? {} : { filter }),
      ...(skip === undefined ? {} : { skip }),
      ...(gpu === undefined ? {} : { gpu }),
    },
  );
  Deno.exit(0);
} catch (error) {
  console.log(
    `${PARITY_PREFIX}error ${JSON.stringify(error instanceof Error ? `${error.name}: ${error.message}` : String(error))}`,
  );
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  Deno.exit(1);
}
