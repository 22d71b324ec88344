/**
 * @module browser/smoke — the runtime smoke in a page, through the compiled browser entry.
 *
 * index.html imports the compiled form (dist/test/runtimes/browser/smoke.js),
 * which imports dist/bindings/browser.js. The lines land in
 * `globalThis.__smoke`, where run.ts reads them.
 */
import * as lib from '../../../bindings/browser.ts';
import { runSmoke } from '../smoke.ts';

/** What the page exposes to the runner. */
export interface SmokeResult {
  readonly lines: string[];
  done: boolean;
  error?: string;
}

const result: SmokeResult = { lines: [], done: false };
(globalThis as { __smoke?: SmokeResult }).__smoke = result;
try {
  // OPFS (or the in-memory fallback, which run.ts reports) under a per-run folder.
  const scratch = `lightning-ts-smoke-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  await runSmoke(
    lib,
    (line) => {
      result.lines.push(line);
      console.log(line);
    },
    scratch,
  );
  result.done = true;
} catch (error) {
  result.error = error instanceof Error ? `${error.stack ?? error.message}` : String(error);
}
