/**
 * @module node/smoke — the runtime smoke in Node, through the compiled entry.
 *
 * Run: `npm run build:ts && node dist/test/runtimes/node/smoke.js`
 * (compiled, this imports dist/bindings/node.js).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lib from '../../../bindings/node.ts';
import { runSmoke } from '../smoke.ts';

const scratch = await mkdtemp(join(tmpdir(), 'lightning-ts-smoke-'));
try {
  await runSmoke(lib, (line) => console.log(line), scratch);
} finally {
  await rm(scratch, { recursive: true, force: true });
}
