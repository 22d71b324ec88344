/**
 * @module bundlers/webpack.test — an app on `lightning-ts` built by webpack 5 with no
 * webpack.config runs in Chromium with no request that fails.
 *
 * webpack 5 treats the entry's literal `new URL('../build/kernels-<variant>.wasm',
 * import.meta.url)` as an asset module: both builds are emitted into dist/ under hashed names
 * and the URL is rewritten against the script's own URL (`publicPath: 'auto'`). The entry's
 * top-level await needs nothing either (webpack ≥ 5.83 enables it by default).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
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

describe.skipIf(SKIP)('bundlers: webpack', () => {
  let installed: Installed;
  let browser: Browser;
  let server: StaticServer | undefined;

  beforeAll(async () => {
    installed = await installPacked([]);
    const { app } = installed;
    mkdirSync(join(app, 'src'));
    // webpack's defaults: src/index.js in, dist/main.js out.
    writeFileSync(join(app, 'src', 'index.js'), appSource('lightning-ts'));
    const r = await runChild(bin('webpack'), ['--mode', 'production'], { cwd: app, timeoutMs: 90_000 });
    if (r.code !== 0) throw new Error(describeRun('bundlers: webpack failed; expected exit 0', r));
    writeFileSync(join(app, 'dist', 'index.html'), pageHtml('./main.js', true));
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (installed !== undefined) rmSync(installed.scratch, { recursive: true, force: true });
  });

  it('webpack: the app trains with no webpack.config; the kernels are emitted assets; no request fails', async () => {
    const dir = join(installed.app, 'dist');
    server = await serveStatic(dir);
    const run = await runApp(browser, server.url.href);
    const sizes = shippedSizes(dir);
    console.log(describeBuild('webpack 5 + lightning-ts', sizes, run));
    const check = trainedCleanly(run);
    expect(check.ok, check.why).toBe(true);
    expect(sizes.wasmFiles).toHaveLength(2);
    expect(run.wasm).toHaveLength(1);
    expect(run.wasm[0]).toMatch(/^200 application\/wasm http:\/\/127\.0\.0\.1:\d+\/[\w-]+\.wasm$/);
  }, 90_000);
});
