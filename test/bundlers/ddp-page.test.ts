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
import { type StaticServer, serveStatic } from '../runtimes/browser/server.ts';
import { bin, launchChromium, SKIP } from './harness.ts';

const FIXTURES = join(ROOT, 'test', 'ddp', 'fixtures');
const PAGE_TIMEOUT_MS = 40_000;

interface PageResult {
  result?: { losses: number[]; weights: number[]; globalStep: number; worldSize: number };
  error?: string;
}

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

  async function runPage(query: string): Promise<PageResult> {
    const page = await browser.newPage();
    const log: string[] = [];
    page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
    try {
      await page.goto(new URL(`browser-ddp.html?${query}`, server.url).href);
      await page.waitForFunction(() => (globalThis as { __ddp?: unknown }).__ddp !== undefined, null, {
        timeout: PAGE_TIMEOUT_MS,
        polling: 100,
      });
      return await page.evaluate(() => (globalThis as unknown as { __ddp: PageResult }).__ddp);
    } catch (error) {
      throw new Error(`bundlers: the DDP page ${query} gave no result; its console:\n${log.join('\n')}`, {
        cause: error,
      });
    } finally {
      await page.close();
    }
  }

  it("ddp page: 2 ranks in module workers from an esbuild bundle of the tarball give one worker's losses and weights", async () => {
    const single = await runPage('devices=1&steps=10');
    const ddp = await runPage('devices=2&steps=10');
    expect(single.error).toBeUndefined();
    expect(ddp.error).toBeUndefined();
    expect(ddp.result!.worldSize).toBe(2);
    expect(ddp.result!.globalStep).toBe(10);
    let m = 0;
    single.result!.weights.forEach((w, i) => {
      m = Math.max(m, Math.abs(w - ddp.result!.weights[i]!));
    });
    expect(ddp.result!.weights).toHaveLength(single.result!.weights.length);
    expect(m).toBeLessThan(1e-5);
    ddp.result!.losses.forEach((l, i) => expect(Math.abs(l - single.result!.losses[i]!)).toBeLessThan(1e-5));
  }, 90_000);
});
