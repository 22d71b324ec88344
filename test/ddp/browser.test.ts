/**
 * @module ddp/browser.test — `strategy: 'ddp'` in headless Chromium: the page starts rank 0 as a
 * module worker (test/ddp/fixtures/browser-train.mjs, bundled here with comlink by esbuild, as an
 * app's bundler would), and rank 0 starts rank 1 as a sibling worker on the same module. Served
 * with COOP/COEP (SharedArrayBuffer); without them the ranks exchange transferred buffers through
 * rank 0, with the same results bit for bit, and say so once.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, mtime, newestMtime, runChild } from '../helpers/child-process.ts';
import { serveStatic, type StaticServer } from '../runtimes/browser/server.ts';
import { type DdpPageResult, maxAbsDiff, runDdpPage } from './ddp-page.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const BUNDLE = join(ROOT, 'dist', 'lightning-ts.embedded.js');
const FIXTURES = join(ROOT, 'test', 'ddp', 'fixtures');

let site = '';
let isolated: StaticServer | undefined;
let browser: Browser | undefined;

/** A server without COOP/COEP: the page is not cross-origin isolated. */
async function serveOpen(root: string): Promise<StaticServer> {
  const server = createServer((request, response) => {
    const name = new URL(request.url ?? '/', 'http://localhost').pathname.slice(1);
    try {
      const body = readFileSync(join(root, name));
      response.writeHead(200, { 'Content-Type': name.endsWith('.html') ? 'text/html' : 'text/javascript' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address() as { port: number };
  return {
    url: new URL(`http://127.0.0.1:${address.port}/`),
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

function runPage(server: StaticServer, query: string): Promise<DdpPageResult & { log: string[] }> {
  return runDdpPage(browser!, server.url, query);
}

describe('ddp (browser module workers)', () => {
  beforeAll(async () => {
    const sources = Math.max(newestMtime(join(ROOT, 'runtime'), ['.ts']), newestMtime(join(ROOT, 'bindings'), ['.ts']));
    if (mtime(BUNDLE) < sources) {
      const r = await runChild('npm', ['run', 'build:ts'], { cwd: ROOT, timeoutMs: 300_000 });
      if (r.code !== 0) throw new Error(describeRun('ddp: npm run build:ts failed; expected exit 0', r));
    }
    site = mkdtempSync(join(tmpdir(), 'lightning-ts-ddp-browser-'));
    await build({
      entryPoints: [join(FIXTURES, 'browser-train.mjs')],
      outfile: join(site, 'browser-train.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      external: ['mnist', 'webgpu'],
      logLevel: 'warning',
    });
    writeFileSync(join(site, 'browser-ddp.html'), readFileSync(join(FIXTURES, 'browser-ddp.html')));
    isolated = await serveStatic(site);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await isolated?.close();
    if (site !== '') rmSync(site, { recursive: true, force: true });
  });

  it('ddp: browser, 2 ranks in module workers give the losses and weights of one worker (seed autoencoder, 10 steps)', async () => {
    expect(existsSync(CHROMIUM), `ddp: Chromium not found; expected ${CHROMIUM} (or set CHROMIUM_PATH)`).toBe(true);
    const single = await runPage(isolated!, 'devices=1&steps=10');
    const ddp = await runPage(isolated!, 'devices=2&steps=10');
    expect(single.error).toBeUndefined();
    expect(ddp.error).toBeUndefined();
    expect(ddp.result!.worldSize).toBe(2);
    expect(ddp.result!.globalStep).toBe(10);
    expect(ddp.result!.losses).toHaveLength(10);
    expect(maxAbsDiff(ddp.result!.losses, single.result!.losses)).toBeLessThan(1e-5);
    expect(maxAbsDiff(ddp.result!.weights, single.result!.weights)).toBeLessThan(1e-5);
  }, 90_000);

  it('ddp: browser, syncBatchnorm, a CNN with BatchNorm and Dropout on 2 ranks gives the losses, weights and running stats of one worker on the global batch (50 steps)', async () => {
    // The CNN and why its Dropout can match one process: test/ddp/fixtures/cnn.mjs. The bound is
    // ddp.test.ts's CNN_TOL (float32 rounding of sums split across the ranks). Rank 0 is a module
    // worker, so its synchronous sums may block in Atomics.wait.
    const single = await runPage(isolated!, 'model=cnn&devices=1&steps=50');
    const ddp = await runPage(isolated!, 'model=cnn&sync=1&devices=2&steps=50');
    expect(single.error).toBeUndefined();
    expect(ddp.error).toBeUndefined();
    expect(ddp.result!.worldSize).toBe(2);
    expect(ddp.result!.losses).toHaveLength(50);
    expect(single.result!.weights).toHaveLength(698 + 9);
    expect(maxAbsDiff(ddp.result!.losses, single.result!.losses)).toBeLessThan(1e-5);
    expect(maxAbsDiff(ddp.result!.weights, single.result!.weights)).toBeLessThan(1e-5);
    expect(ddp.result!.weights.at(-1)).toBe(50);
  }, 90_000);

  it('ddp: browser, a page without COOP/COEP trains by transferred buffers: the bits of shared memory, said once', async () => {
    const shared = await runPage(isolated!, 'devices=2&steps=10');
    const open = await serveOpen(site);
    try {
      const r = await runPage(open, 'devices=2&steps=10');
      expect(r.error).toBeUndefined();
      expect(r.result!.worldSize).toBe(2);
      expect(r.result!.globalStep).toBe(10);
      expect(r.result!.losses).toEqual(shared.result!.losses);
      expect(r.result!.weights).toEqual(shared.result!.weights);
      const said = r.log.filter((l) => l.includes('not cross-origin isolated'));
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
      expect(shared.log.some((l) => l.includes('not cross-origin isolated'))).toBe(false);
    } finally {
      await open.close();
    }
  }, 90_000);
});
