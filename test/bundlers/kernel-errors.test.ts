/**
 * @module bundlers/kernel-errors.test — a kernel URL that answers 404, or a page instead of
 * WebAssembly, gives a BackendError that says what came back and what to do, in Chromium.
 *
 * A small server stands in for two deployments of dist/: under /plain/ a missing file is a
 * 404; under /spa/ every unknown path gets index.html with 200, as a dev server or an SPA
 * fallback answers (what Vite 7's dev server did before, `expected magic word 00 61 73 6d,
 * found 3c 21 64 6f`). Neither serves build/. The repo's own bundles are served (the same
 * files the tarball ships), so no packing is needed.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../package/packed.ts';
import { launchChromium, SKIP } from './harness.ts';

const INDEX = '<!doctype html><html><head><link rel="icon" href="data:,"></head><body>app</body></html>';

/** Serves dist/lightning-ts.*.js under /plain/ and /spa/; see the module comment for the rest. */
async function startServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    void (async () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const m = /^\/(plain|spa)\/(.*)$/.exec(path);
      const bundle = m === null ? null : /^dist\/(lightning-ts\.[a-z]+\.js)$/.exec(m[2] ?? '');
      if (m !== null && bundle !== null) {
        const body = await readFile(join(ROOT, 'dist', bundle[1] ?? ''));
        response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(body);
      } else if (m !== null && (m[1] === 'spa' || m[2] === '')) {
        response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(INDEX);
      } else {
        response.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
      }
    })();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** What the page saw: the error's class and message, and the `.wasm` URLs it requested. */
interface Outcome {
  readonly name: string | null;
  readonly message: string;
  readonly wasm: string[];
}

/** Runs in the page: imports the entry, then makes a tensor or awaits `init({ kernelUrl })`. */
const IN_PAGE = `async (spec, kernelUrl) => {
  const lib = await import(spec);
  const fetchedAtImport = performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.wasm')).map((e) => e.name);
  try {
    if (kernelUrl === null) lib.tensor([1, 2, 3]);
    else await lib.init({ kernelUrl });
    return { name: null, message: 'no error', fetchedAtImport };
  } catch (error) {
    return { name: error.name, message: error.message, fetchedAtImport };
  }
}`;

/**
 * Opens `<base><mode>/`, imports `<base><mode>/dist/lightning-ts.<entry>.js`, then runs `step`
 * in the page: `'op'` makes a tensor, or `init` with `kernelUrl`.
 */
async function attempt(
  browser: Browser,
  base: string,
  mode: 'plain' | 'spa',
  entry: string,
  kernelUrl?: string,
): Promise<Outcome & { fetchedAtImport: string[] }> {
  const page: Page = await browser.newPage();
  const wasm: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.endsWith('.wasm')) wasm.push(request.url());
  });
  try {
    await page.goto(`${base}${mode}/`);
    // A string, so vitest's transform leaves its `import()` alone.
    const result = (await page.evaluate(
      `(${IN_PAGE})(${JSON.stringify(`${base}${mode}/dist/lightning-ts.${entry}.js`)}, ${JSON.stringify(kernelUrl ?? null)})`,
    )) as Omit<Outcome, 'wasm'> & { fetchedAtImport: string[] };
    return { ...result, wasm };
  } finally {
    await page.close();
  }
}

describe.skipIf(SKIP)('bundlers: kernel errors', () => {
  let browser: Browser;
  let server: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    await ensureBuilt();
    server = await startServer();
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('kernel errors: a 404 for the default kernels says HTTP 404 and the URL at the first op; the import succeeds', async () => {
    const r = await attempt(browser, server.url, 'plain', 'browser');
    expect(r.name).toBe('BackendError');
    expect(r.message).toMatch(
      /expected HTTP 200 from http:\/\/127\.0\.0\.1:\d+\/plain\/build\/kernels-\w+\.wasm, got HTTP 404/,
    );
    expect(r.message).toContain('lightning-ts/embedded');
    expect(r.wasm).toHaveLength(1);
  }, 60_000);

  it('kernel errors: index.html for the default kernels says the server returned HTML, and what to do', async () => {
    const r = await attempt(browser, server.url, 'spa', 'browser');
    expect(r.name).toBe('BackendError');
    expect(r.message).toMatch(
      /the server returned HTML \(text\/html; charset=utf-8\) for http:\/\/127\.0\.0\.1:\d+\/spa\/build\/kernels-\w+\.wasm; expected application\/wasm, got 3c 21 64 6f \("<!doctype html>/,
    );
    expect(r.message).toContain("optimizeDeps: { exclude: ['lightning-ts'] }");
  }, 60_000);

  it('kernel errors: lightning-ts/manual fetches nothing at import; init({ kernelUrl }) to a 404 says 404', async () => {
    const r = await attempt(browser, server.url, 'plain', 'manual', '/plain/kernels/');
    expect(r.fetchedAtImport).toEqual([]);
    expect(r.name).toBe('BackendError');
    expect(r.message).toMatch(/got HTTP 404 Not Found/);
    expect(r.message).toMatch(/\/plain\/kernels\/kernels-\w+\.wasm/);
    expect(r.wasm).toHaveLength(1);
    expect(r.wasm[0]).toMatch(/\/plain\/kernels\/kernels-\w+\.wasm$/);
  }, 60_000);

  it('kernel errors: lightning-ts/manual init({ kernelUrl }) answered with a page says HTML', async () => {
    const r = await attempt(browser, server.url, 'spa', 'manual', '/spa/kernels/');
    expect(r.fetchedAtImport).toEqual([]);
    expect(r.name).toBe('BackendError');
    expect(r.message).toMatch(
      /the server returned HTML \(text\/html; charset=utf-8\) for http:\/\/127\.0\.0\.1:\d+\/spa\/kernels\//,
    );
  }, 60_000);
});
