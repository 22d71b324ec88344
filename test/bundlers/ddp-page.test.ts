/**
 * @module bundlers/ddp-page.test — DDP in a page built as a user builds it: the tarball installed
 * into an empty folder, the training module bundled by esbuild from `lightning-ts/embedded`, a
 * page that starts it as a module worker (rank 0), which starts rank 1 as a sibling worker on the
 * same bundle. The program is test/ddp/fixtures/browser-train.mjs with its import of the built
 * file replaced by the package name. Two ranks must give one worker's losses and weights.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, runChild } from '../helpers/child-process.ts';
import { type Installed, installPacked, ROOT } from '../package/packed.ts';
import { maxAbsDiff, runDdpPage } from '../ddp/ddp-page.ts';
import { type StaticServer, serveStatic } from '../runtimes/browser/server.ts';
import { bin, launchChromium, SKIP } from './harness.ts';

const FIXTURES = join(ROOT, 'test', 'ddp', 'fixtures');

describe.skipIf(SKIP)('bundlers: a DDP page from the installed tarball', () => {
  let installed: Installed;
  let browser: Browser;
  let server: StaticServer;

  beforeAll(async () => {
    installed = await installPacked([]);
    const { app } = installed;
    const src = join(app, 'src');
    mkdirSync(src);
    const program = readFileSync(join(FIXTURES, 'browser-train.mjs'), 'utf8');
    expect(program).toContain("'../../../dist/lightning-ts.embedded.js'");
    writeFileSync(
      join(src, 'browser-train.mjs'),
      program.replaceAll("'../../../dist/lightning-ts.embedded.js'", "'lightning-ts/embedded'"),
    );
    copyFileSync(join(FIXTURES, 'cnn.mjs'), join(src, 'cnn.mjs'));
    const out = join(app, 'public');
    const args = ['src/browser-train.mjs', '--bundle', '--format=esm', '--minify', '--outfile=public/browser-train.js'];
    const r = await runChild(bin('esbuild'), args, { cwd: app, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(describeRun('bundlers: esbuild of the DDP program failed; expected exit 0', r));
    copyFileSync(join(FIXTURES, 'browser-ddp.html'), join(out, 'browser-ddp.html'));
    server = await serveStatic(out);
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (installed !== undefined) rmSync(installed.scratch, { recursive: true, force: true });
  });

  it("ddp page: 2 ranks in module workers from an esbuild bundle of the tarball give one worker's losses and weights", async () => {
    const single = await runDdpPage(browser, server.url, 'devices=1&steps=10');
    const ddp = await runDdpPage(browser, server.url, 'devices=2&steps=10');
    expect(single.error).toBeUndefined();
    expect(ddp.error).toBeUndefined();
    expect(ddp.result!.worldSize).toBe(2);
    expect(ddp.result!.globalStep).toBe(10);
    expect(maxAbsDiff(ddp.result!.weights, single.result!.weights)).toBeLessThan(1e-5);
    expect(maxAbsDiff(ddp.result!.losses, single.result!.losses)).toBeLessThan(1e-5);
  }, 90_000);
});
