/**
 * @module examples/browser-page.test — the live training page (examples/browser/) in headless
 * Chromium: it trains in a worker while the page keeps drawing, its downloads load in Node,
 * and a bad `.ckpt` gets the library's typed error on the page.
 *
 * The server runs as `npm run demo` runs it (`node examples/browser/serve.mjs`, here with
 * `--port 0`), in a child process; Chromium is Debian's (`CHROMIUM_PATH`, default
 * /usr/bin/chromium), offline. It serves dist/lightning-ts.browser.js, which `npm test`
 * builds first; run `npm run build` before running this file alone. A screenshot of the page
 * after training goes to `test-output/browser-page.png` (`TEST_OUTPUT_DIR` moves it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTorch, saveTorch, Tensor, zeros } from '../../bindings/node.ts';
import { readEventFile, scalars } from '../helpers/tfevents-reader.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const OUTPUT_DIR = process.env['TEST_OUTPUT_DIR'] ?? join(ROOT, 'test-output');
const BUNDLE = join(ROOT, 'dist', 'lightning-ts.browser.js');
/** As test/runtimes/browser/run.ts: quiet, offline, no sandbox (root in a container). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** As test/runtimes/webgpu/run-browser.ts: WebGPU on, on Chromium's bundled SwiftShader where there is no GPU. */
const WEBGPU_CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const SEED_KEYS = [
  ['encoder.0.weight', [64, 784]],
  ['encoder.0.bias', [64]],
  ['encoder.2.weight', [3, 64]],
  ['encoder.2.bias', [3]],
  ['decoder.0.weight', [64, 3]],
  ['decoder.0.bias', [64]],
  ['decoder.2.weight', [784, 64]],
  ['decoder.2.bias', [784]],
] as const;

/** The page's `window.__demo`, as far as the test reads it (examples/browser/page.ts). */
interface DemoState {
  ready: boolean;
  training: boolean;
  step: number;
  losses: [number, number][];
  frames: number;
  visuals: number;
  isolated: boolean;
  missingHeaders: string[];
  gpu: { adapter: string | null; reason: string } | null;
  error: {
    name: string;
    message: string;
    missingKeys: string[];
    unexpectedKeys: string[];
    mismatchedKeys: string[];
  } | null;
  loaded: { name: string; step: number; resumes: boolean } | null;
  done: { step: number; stopped: boolean; backend: string; checkpoint: string | null } | null;
}

const skip = !existsSync(CHROMIUM) && process.env['CI'] !== 'true';
if (skip) console.warn(`browser-page: skipped; Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`);

/** Starts `node examples/browser/serve.mjs --port 0 ...args`; resolves with its URL. */
function startServer(args: readonly string[]): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['examples/browser/serve.mjs', '--port', '0', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(
      () => fail(new Error(`browser-page: the server printed no URL in 30 s; got ${out}`)),
      30_000,
    );
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        done({ child, url: m[0] });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`browser-page: the server exited with ${code}; expected it to serve, got: ${out}`));
    });
  });
}

function stopServer(child: ChildProcess | undefined): void {
  if (child !== undefined && child.exitCode === null) child.kill('SIGTERM');
}

function demoState(page: Page): Promise<DemoState> {
  return page.evaluate(() => (globalThis as unknown as { __demo: DemoState }).__demo);
}

/** Waits until `predicate` holds for the page's state; returns that state. */
async function waitForState(page: Page, predicate: string, timeout = 40_000): Promise<DemoState> {
  await page.waitForFunction(
    `(() => { const s = globalThis.__demo; return s !== undefined && (${predicate}); })()`,
    null,
    {
      timeout,
      polling: 50,
    },
  );
  return demoState(page);
}

/** Pixel statistics of a canvas: how many differ from white / from black, and distinct colours. */
function canvasStats(
  page: Page,
  id: string,
): Promise<{ nonWhite: number; nonBlack: number; colours: number; reddish: number }> {
  return page.evaluate((canvasId) => {
    const canvas = document.getElementById(canvasId) as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let nonWhite = 0;
    let nonBlack = 0;
    let reddish = 0;
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
      if (a > 0 && (r < 250 || g < 250 || b < 250)) nonWhite++;
      if (a > 0 && r + g + b > 30) nonBlack++;
      if (r > 180 && g < 140 && b < 140) reddish++;
      colours.add((r << 16) | (g << 8) | b);
    }
    return { nonWhite, nonBlack, colours: colours.size, reddish };
  }, id);
}

describe.skipIf(skip)('examples/browser: the live training page', () => {
  let browser: Browser | undefined;
  let server: ChildProcess | undefined;
  let url = '';

  beforeAll(async () => {
    expect(existsSync(BUNDLE), `browser-page: ${BUNDLE} is missing; expected the build (npm run build)`).toBe(true);
    ({ child: server, url } = await startServer([]));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    stopServer(server);
  });

  it('browser page: trains in a worker, draws, stays responsive, downloads and loads checkpoints', async () => {
    const page = await browser!.newPage({ viewport: { width: 1500, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.stack ?? e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    const response = await page.goto(url);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['cross-origin-opener-policy']).toBe('same-origin');
    expect(response?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    const ready = await waitForState(page, 's.ready && s.visuals > 0');
    expect(ready.isolated, 'served with COOP/COEP, the page is cross-origin isolated').toBe(true);
    expect(await page.textContent('#isolation')).toContain('cross-origin isolated');

    // The WebGPU option says whether this browser has an adapter (headless with --disable-gpu: none).
    const gpuOption = page.locator('#accelerator option[value=webgpu]');
    if (ready.gpu?.adapter === null) {
      expect(await gpuOption.isDisabled()).toBe(true);
      expect(await gpuOption.textContent()).toContain('no adapter');
      expect(await page.textContent('#gpu-note')).toContain(ready.gpu.reason);
    } else {
      expect(await gpuOption.isDisabled()).toBe(false);
    }

    // Train on wasm until a few hundred steps ran, watching the main thread meanwhile.
    await page.fill('#steps', '100000');
    await page.selectOption('#accelerator', 'cpu');
    await page.click('#train');
    const early = await waitForState(page, 's.step >= 60');
    const lagMs = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const t0 = performance.now();
          setTimeout(() => resolve(performance.now() - t0), 0);
        }),
    );
    const mid = await waitForState(page, 's.step >= 400');
    expect(mid.training).toBe(true);
    expect(mid.frames - early.frames, 'requestAnimationFrame kept running while the worker trained').toBeGreaterThan(5);
    expect(lagMs, 'a task posted during training ran promptly').toBeLessThan(500);
    await page.click('#stop');
    const done = (await waitForState(page, 's.done !== null && !s.training')).done!;
    expect(done.stopped).toBe(true);
    expect(done.backend).toBe('cpu');
    expect(done.step).toBeGreaterThanOrEqual(400);
    expect(done.checkpoint).toMatch(/\/checkpoints\/epoch=\d+-step=\d+\.ckpt$/);
    const trained = await demoState(page);
    expect(trained.error).toBeNull();

    // The loss fell: the last ten logged values against the first ten.
    const losses = trained.losses.map(([, l]) => l);
    expect(losses.length).toBeGreaterThan(40);
    const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-10))).toBeLessThan(0.75 * mean(losses.slice(0, 10)));

    // Every canvas holds a picture.
    const lossChart = await canvasStats(page, 'loss');
    expect(lossChart.reddish, 'the loss line').toBeGreaterThan(100);
    const recon = await canvasStats(page, 'reconstructions');
    expect(recon.nonBlack, 'originals and reconstructions').toBeGreaterThan(2000);
    expect(recon.colours).toBeGreaterThan(20);
    const samples = await canvasStats(page, 'samples');
    expect(samples.nonBlack, 'digits decoded from random z').toBeGreaterThan(500);
    const scatter = await canvasStats(page, 'scatter');
    expect(scatter.nonWhite, 'the embedding scatter').toBeGreaterThan(1000);
    expect(scatter.colours, 'points coloured by digit').toBeGreaterThanOrEqual(10);

    await mkdir(OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUTPUT_DIR, 'browser-page.png'), fullPage: true });

    // The checkpoint download is a torch archive that the library loads with the seed's keys.
    const [ckptDownload] = await Promise.all([page.waitForEvent('download'), page.click('#download-ckpt')]);
    expect(ckptDownload.suggestedFilename()).toMatch(/^epoch=\d+-step=\d+\.ckpt$/);
    const ckptBytes = new Uint8Array(await readFile(await ckptDownload.path()));
    const ckpt = (await loadTorch(ckptBytes)) as Record<string, unknown>;
    expect(ckpt['global_step']).toBe(done.step);
    const sd = ckpt['state_dict'];
    const entries = sd instanceof Map ? [...(sd as Map<string, unknown>)] : Object.entries(sd as object);
    expect(entries.map(([k]) => k)).toEqual(SEED_KEYS.map(([k]) => k));
    for (const [key, value] of entries) {
      expect(value, key).toBeInstanceOf(Tensor);
      expect((value as Tensor).shape, key).toEqual(SEED_KEYS.find(([k]) => k === key)![1]);
    }

    // The TensorBoard event file download holds the logged training loss.
    const [eventsDownload] = await Promise.all([page.waitForEvent('download'), page.click('#download-events')]);
    expect(eventsDownload.suggestedFilename()).toMatch(/^events\.out\.tfevents\./);
    const trainLoss = scalars(await readEventFile(await eventsDownload.path()), 'train_loss');
    expect(trainLoss.length).toBeGreaterThan(5);

    // A file of random bytes: the library's CheckpointError, on the page.
    const noise = new Uint8Array(4096);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    await page.setInputFiles('#ckpt-file', {
      name: 'noise.ckpt',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(noise),
    });
    const noiseError = (await waitForState(page, 's.error !== null')).error!;
    expect(noiseError.name).toBe('CheckpointError');
    expect(noiseError.message).toContain('not a readable checkpoint');
    expect(await page.textContent('#error')).toContain('CheckpointError');

    // Another model's checkpoint: the page lists the keys that do not fit.
    const foreign = await saveTorch({
      state_dict: {
        'encoder.0.weight': zeros([32, 784]),
        'encoder.0.bias': zeros([32]),
        'head.weight': zeros([10, 3]),
      },
      epoch: 0,
      global_step: 0,
    });
    await page.setInputFiles('#ckpt-file', {
      name: 'other-model.ckpt',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(foreign),
    });
    const foreignError = (await waitForState(page, "s.error !== null && s.error.message.includes('other-model.ckpt')"))
      .error!;
    expect(foreignError.name).toBe('CheckpointError');
    expect(foreignError.unexpectedKeys).toEqual(['head.weight']);
    expect(foreignError.missingKeys).toContain('decoder.2.weight');
    expect(foreignError.mismatchedKeys).toContain('encoder.0.weight: expected [64, 784], got [32, 784]');
    const shown = await page.textContent('#error');
    for (const text of ['CheckpointError', 'head.weight', 'decoder.2.weight', 'encoder.0.weight: expected [64, 784]'])
      expect(shown).toContain(text);

    // The downloaded checkpoint loads back and training resumes from its step.
    await page.setInputFiles('#ckpt-file', {
      name: ckptDownload.suggestedFilename(),
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(ckptBytes),
    });
    const loaded = await waitForState(page, 's.loaded !== null');
    expect(loaded.error).toBeNull();
    expect(loaded.loaded).toEqual({ name: ckptDownload.suggestedFilename(), step: done.step, resumes: true });
    await page.fill('#steps', '40');
    await page.click('#train');
    const resumed = await waitForState(page, `s.done !== null && !s.training && s.done.step !== ${done.step}`);
    expect(resumed.error).toBeNull();
    expect(resumed.done).toMatchObject({ step: done.step + 40, stopped: false });

    expect(pageErrors).toEqual([]);
    await page.close();
  }, 90_000);

  it('browser page: without COOP/COEP it names the missing headers', async () => {
    const { child, url: bareUrl } = await startServer(['--no-isolation']);
    try {
      const page = await browser!.newPage();
      await page.goto(bareUrl);
      const state = await waitForState(page, 's.missingHeaders.length > 0 && s.ready', 30_000);
      expect(state.isolated).toBe(false);
      expect(state.missingHeaders).toEqual([
        'Cross-Origin-Opener-Policy: same-origin',
        'Cross-Origin-Embedder-Policy: require-corp',
      ]);
      const text = await page.textContent('#isolation');
      expect(text).toContain('Cross-Origin-Opener-Policy: same-origin');
      expect(text).toContain('Cross-Origin-Embedder-Policy: require-corp');
      await page.close();
    } finally {
      stopServer(child);
    }
  }, 45_000);

  it('browser page: the WebGPU option trains on a (software) adapter', async () => {
    const gpuBrowser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: WEBGPU_CHROMIUM_ARGS });
    try {
      const page = await gpuBrowser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.stack ?? e.message));
      await page.goto(`${url}?allow-software-gpu`);
      const ready = await waitForState(page, 's.ready', 30_000);
      expect(ready.gpu?.adapter, `the WebGPU adapter; got ${ready.gpu?.reason}`).not.toBeNull();
      expect(await page.locator('#accelerator option[value=webgpu]').isDisabled()).toBe(false);
      await page.selectOption('#accelerator', 'webgpu');
      await page.fill('#steps', '20');
      await page.click('#train');
      const state = await waitForState(page, 's.done !== null && !s.training', 60_000);
      expect(state.error).toBeNull();
      expect(state.done).toMatchObject({ step: 20, stopped: false, backend: 'webgpu' });
      const losses = state.losses.map(([, l]) => l);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses.at(-1)!).toBeLessThan(losses[0]!);
      expect((await canvasStats(page, 'reconstructions')).nonBlack).toBeGreaterThan(2000);
      expect(pageErrors).toEqual([]);
    } finally {
      await gpuBrowser.close();
    }
  }, 75_000);
});
