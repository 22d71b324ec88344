/**
 * @module webgpu/browser — the parity suite in a page, through the compiled browser entry.
 *
 * index.html imports the compiled form (dist/test/runtimes/webgpu/browser.js); the lines
 * land in `globalThis.__parity`, where run-browser.ts reads them. `?backend=wasm` checks
 * the wasm backend instead (the harness without a GPU); `?filter=` and `?skip=` select checks by name.
 */
import * as lib from '../../../bindings/browser.ts';
import { parityBackend, parseBackendName, runParity } from './parity.ts';

/** What the page exposes to the runner. */
export interface ParityPage {
  readonly lines: string[];
  /** The check now running (a crash or hang names it). */
  current: string;
  done: boolean;
  error?: string;
}

const page: ParityPage = { lines: [], current: '', done: false };
(globalThis as { __parity?: ParityPage }).__parity = page;
try {
  const params = new URL(location.href).searchParams;
  const which = parseBackendName(params.get('backend'));
  const filter = params.get('filter');
  const skip = params.get('skip');
  const { backend, adapter, gpu } = await parityBackend(lib, which);
  await runParity(
    'chromium',
    backend,
    adapter,
    (line) => page.lines.push(line),
    (line) => {
      page.current = line;
    },
    {
      ...(filter === null ? {} : { filter }),
      ...(skip === null ? {} : { skip }),
      ...(gpu === undefined ? {} : { gpu }),
    },
  );
  page.done = true;
} catch (error) {
  page.error = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
}
