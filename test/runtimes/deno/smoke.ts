/**
 * @module deno/smoke — the runtime smoke in Deno, straight from the TypeScript sources.
 *
 * Run: `npx deno run --allow-read --allow-write test/runtimes/deno/smoke.ts`
 * (writes only inside a fresh temporary folder, removed afterwards).
 */
import * as lib from '../../../bindings/deno.ts';
import { runSmoke } from '../smoke.ts';

interface DenoTemp {
  makeTempDir(options: { prefix: string }): Promise<string>;
  remove(path: string, options: { recursive: boolean }): Promise<void>;
}
const Deno = (globalThis as unknown as { Deno: DenoTemp }).Deno;

const scratch = await Deno.makeTempDir({ prefix: 'lightning-ts-smoke-' });
try {
  await runSmoke(lib, (line) => console.log(line), scratch);
} finally {
  await Deno.remove(scratch, { recursive: true });
}
