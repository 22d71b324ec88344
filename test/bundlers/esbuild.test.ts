/**
 * @module bundlers/esbuild.test — an app bundled by esbuild from the installed tarball runs in
 * Chromium with no esbuild configuration and no request that fails.
 *
 * esbuild 0.28 leaves `new URL('…', import.meta.url)` as written (it copies no asset), so the
 * zero-configuration way is `lightning-ts/embedded`: the kernels travel inside the JavaScript
 * and the page fetches no `.wasm` at all. The other way is `lightning-ts/manual` with the
 * kernels copied beside the app and `init({ kernelUrl })`: the page then fetches exactly one
 * kernel build, from that URL, and nothing before it.
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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

/** `esbuild src/<name>.js --bundle --format=esm --minify --outfile=<out>/main.js`, as a user types it. */
async function esbuild(app: string, name: string, out: string): Promise<void> {
  const args = [`src/${name}.js`, '--bundle', '--format=esm', '--minify', `--outfile=${out}/main.js`];
  const r = await runChild(bin('esbuild'), args, { cwd: app, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(describeRun(`bundlers: esbuild ${name} failed; expected exit 0`, r));
  writeFileSync(join(app, out, 'index.html'), pageHtml('./main.js'));
}

describe.skipIf(SKIP)('bundlers: esbuild', () => {
  let installed: Installed;
  let browser: Browser;
  const servers: StaticServer[] = [];

  beforeAll(async () => {
    installed = await installPacked([]);
    const { app } = installed;
    mkdirSync(join(app, 'src'));
    writeFileSync(join(app, 'src', 'embedded.js'), appSource('lightning-ts/embedded'));
    writeFileSync(
      join(app, 'src', 'manual.js'),
      appSource('lightning-ts/manual', "await init({ kernelUrl: '/kernels/' });"),
    );
    await esbuild(app, 'embedded', 'public-embedded');
    await esbuild(app, 'manual', 'public-manual');
    // The one step the manual way asks for: the kernels copied where init's kernelUrl points.
    cpSync(join(app, 'node_modules', 'lightning-ts', 'build'), join(app, 'public-manual', 'kernels'), {
      recursive: true,
    });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    for (const server of servers) await server.close();
    if (installed !== undefined) rmSync(installed.scratch, { recursive: true, force: true });
  });

  it('esbuild: lightning-ts/embedded trains with no configuration and fetches no .wasm', async () => {
    const dir = join(installed.app, 'public-embedded');
    const server = await serveStatic(dir);
    servers.push(server);
    const run = await runApp(browser, server.url.href);
    console.log(describeBuild('esbuild + lightning-ts/embedded', shippedSizes(dir), run));
    const check = trainedCleanly(run);
    expect(check.ok, check.why).toBe(true);
    expect(run.wasm).toEqual([]);
  }, 90_000);

  it('esbuild: lightning-ts/manual fetches one kernel build, from init({ kernelUrl }), and nothing before', async () => {
    const dir = join(installed.app, 'public-manual');
    const server = await serveStatic(dir);
    servers.push(server);
    const run = await runApp(browser, server.url.href);
    console.log(describeBuild('esbuild + lightning-ts/manual', shippedSizes(join(dir)), run));
    const check = trainedCleanly(run);
    expect(check.ok, check.why).toBe(true);
    expect(run.wasm).toHaveLength(1);
    expect(run.wasm[0]).toMatch(
      /^200 application\/wasm http:\/\/127\.0\.0\.1:\d+\/kernels\/kernels-(simd|relaxed)\.wasm$/,
    );
  }, 90_000);
});
