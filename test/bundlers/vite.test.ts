/**
 * @module bundlers/vite.test — an app on `lightning-ts` built by `vite build`, and served by the
 * Vite dev server, runs in Chromium with no vite.config and no request that fails.
 *
 * The entry names each kernel build with a literal `new URL('../build/kernels-<variant>.wasm',
 * import.meta.url)`: `vite build` copies both builds into dist/assets/ under hashed names, and
 * the dev server's dependency pre-bundling (node_modules/.vite/deps/) rewrites the URL to the
 * file in node_modules/lightning-ts/build/ (Vite 8; for Vite 7's, which does not, the entry
 * itself looks beside .vite/, see bindings/browser-kernels.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, runChild } from '../helpers/child-process.ts';
import { type Installed, installPacked } from '../package/packed.ts';
import { type StaticServer, serveStatic } from '../runtimes/browser/server.ts';
import {
  appSource,
  bin,
  describeBuild,
  launchChromium,
  pageHtml,
  runApp,
  SKIP,
  shippedSizes,
  trainedCleanly,
} from './harness.ts';

/** A TCP port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? done(address.port) : fail(address)));
    });
  });
}

/** `vite --port <port> --strictPort --host 127.0.0.1` in `app`; resolves once it serves. */
async function startDevServer(app: string): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const port = await freePort();
  const child = spawn(bin('vite'), ['--port', String(port), '--strictPort', '--host', '127.0.0.1'], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return { child, url, log: () => out };
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      throw new Error(`bundlers: the Vite dev server did not start; expected HTTP 200 from ${url}, got: ${out}`);
    }
    await new Promise((wake) => setTimeout(wake, 200));
  }
}

describe.skipIf(SKIP)('bundlers: vite', () => {
  let installed: Installed;
  let browser: Browser;
  let server: StaticServer | undefined;
  let dev: ChildProcess | undefined;

  beforeAll(async () => {
    installed = await installPacked([]);
    const { app } = installed;
    mkdirSync(join(app, 'src'));
    writeFileSync(join(app, 'src', 'main.js'), appSource('lightning-ts'));
    writeFileSync(join(app, 'index.html'), pageHtml('/src/main.js'));
    const r = await runChild(bin('vite'), ['build'], { cwd: app, timeoutMs: 90_000 });
    if (r.code !== 0) throw new Error(describeRun('bundlers: vite build failed; expected exit 0', r));
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    dev?.kill();
    if (installed !== undefined) rmSync(installed.scratch, { recursive: true, force: true });
  });

  it('vite build: the app trains with no vite.config; the kernels are emitted assets; no request fails', async () => {
    const dir = join(installed.app, 'dist');
    server = await serveStatic(dir);
    const run = await runApp(browser, server.url.href);
    const sizes = shippedSizes(dir);
    console.log(describeBuild('vite build + lightning-ts', sizes, run));
    const check = trainedCleanly(run);
    expect(check.ok, check.why).toBe(true);
    expect(sizes.wasmFiles).toHaveLength(2);
    expect(run.wasm).toHaveLength(1);
    expect(run.wasm[0]).toMatch(
      /^200 application\/wasm http:\/\/127\.0\.0\.1:\d+\/assets\/kernels-(simd|relaxed)-[\w-]+\.wasm$/,
    );
  }, 90_000);

  it('vite dev server: the app trains with no vite.config (no optimizeDeps.exclude); no request fails', async () => {
    const started = await startDevServer(installed.app);
    dev = started.child;
    const run = await runApp(browser, started.url);
    const check = trainedCleanly(run);
    expect(check.ok, `${check.why}\n${started.log()}`).toBe(true);
    expect(run.wasm).toHaveLength(1);
    expect(run.wasm[0]).toMatch(
      /^200 application\/wasm .*\/node_modules\/lightning-ts\/build\/kernels-(simd|relaxed)\.wasm$/,
    );
    // The package ran from Vite's pre-bundled copy, the case that used to get index.html.
    expect(existsSync(join(installed.app, 'node_modules', '.vite', 'deps', 'lightning-ts.js'))).toBe(true);
  }, 90_000);
});
