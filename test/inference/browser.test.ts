/**
 * @module test/inference/browser.test — the inference entry in headless Chromium: the browser
 * bundle loads the seed checkpoint into an encoder and runs forward, and runs the same model's
 * ONNX export through OnnxSession; both give the embeddings the main entry computes in Node.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noGrad, randn, tensor } from '../../bindings/node.ts';
import { bundleInference, INFERENCE_ENTRIES } from '../../scripts/bundle-inference.mjs';
import { serveStatic, type StaticServer } from '../runtimes/browser/server.ts';
import { images, ROOT, trainCheckpoint } from './serve-helpers.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** As the runtime smoke's: quiet, offline, no sandbox (root in a container). */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];
const SKIP = process.env['CI'] !== 'true' && !existsSync(CHROMIUM);
const DIR = join(ROOT, 'test-output', 'inference-browser');

/** The page: init, loadWeights into an encoder, forward; then the ONNX file through OnnxSession. */
const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
import { init, loadWeights, nn, noGrad, tensor, OnnxSession } from '/dist/lightning-ts.inference.browser.js';
try {
  const backend = await init();
  const images = await (await fetch('./images.json')).json();
  class Encoder extends nn.Module {
    constructor() {
      super();
      this.net = new nn.Sequential(new nn.Linear(784, 64), new nn.ReLU(), new nn.Linear(64, 3));
    }
    forward(x) { return this.net.forward(x); }
  }
  const encoder = new Encoder();
  const ckpt = new Uint8Array(await (await fetch('./seed.ckpt')).arrayBuffer());
  // the checkpoint's keys are encoder.0.weight, ...; the module's net.0.weight: rename by prefix
  const result = await loadWeights(encoder.net, ckpt, { prefix: 'encoder.' });
  const z = Array.from(await noGrad(() => encoder.forward(tensor(images))).data());
  const session = await OnnxSession.create(new Uint8Array(await (await fetch('./encoder.onnx')).arrayBuffer()));
  const { output } = await session.run({ input: tensor(images) });
  const onnx = Array.from(await output.data());
  window.__result = { backend: backend.name, format: result.format, z, onnx };
} catch (e) {
  window.__result = { error: String(e && e.stack || e) };
}
</script>`;

describe.skipIf(SKIP)('inference entry in Chromium', () => {
  let server: StaticServer;
  let expected: number[];

  beforeAll(async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    await bundleInference(INFERENCE_ENTRIES[1]!);
    const { path, model } = await trainCheckpoint(DIR);
    copyFileSync(path, join(DIR, 'seed.ckpt'));
    const batch = images(5, 3);
    writeFileSync(join(DIR, 'images.json'), JSON.stringify(batch));
    model.eval();
    expected = Array.from(await noGrad(() => model.encoder.forward(tensor(batch))).data());
    writeFileSync(
      join(DIR, 'encoder.onnx'),
      await model.encoder.toOnnx(randn([4, 784]), {
        dynamicAxes: { input: { 0: 'batch' }, output: { 0: 'batch' } },
      }),
    );
    writeFileSync(join(DIR, 'index.html'), PAGE);
    server = await serveStatic(ROOT);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  it("inference: the browser bundle loads the checkpoint and the ONNX file and gives the Node forward's embeddings", async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const failed: string[] = [];
      page.on('response', (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
      });
      await page.goto(new URL('test-output/inference-browser/index.html', server.url).href);
      await page.waitForFunction(() => (window as { __result?: unknown }).__result !== undefined, null, {
        timeout: 60_000,
      });
      const result = (await page.evaluate(() => (window as { __result?: unknown }).__result)) as {
        error?: string;
        backend: string;
        format: string;
        z: number[];
        onnx: number[];
      };
      expect(result.error, result.error).toBeUndefined();
      expect(failed).toEqual([]);
      expect(result.backend).toBe('wasm');
      expect(result.format).toBe('ckpt');
      expect(result.z).toHaveLength(expected.length);
      for (let i = 0; i < expected.length; i++) {
        expect(Math.abs(result.z[i]! - expected[i]!)).toBeLessThanOrEqual(1e-6);
        expect(Math.abs(result.onnx[i]! - expected[i]!)).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      await browser.close();
    }
  }, 90_000);
});
