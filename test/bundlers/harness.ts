/**
 * @module bundlers/harness — what the bundler suites share: the app a user writes, a headless
 * Chromium that runs it and records every request, and the sizes a build ships.
 *
 * The app trains the seed autoencoder (784→64→ReLU→3 and its mirror, MSE, Adam at 1e-3) for
 * {@link APP_STEPS} steps on `rand` data and leaves its losses in `globalThis.__app`. The suites
 * bundle it from the packed tarball installed into an empty folder (test/package/packed.ts),
 * with the bundlers of this repo's devDependencies run in that folder, and no bundler
 * configuration. Chromium comes from `CHROMIUM_PATH`, default /usr/bin/chromium.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Browser, chromium } from 'playwright-core';
import { ROOT } from '../package/packed.ts';

/** Where Chromium is looked for unless CHROMIUM_PATH says otherwise. */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** Whether the suites skip: no Chromium here, and not under CI (where a missing one fails). */
export const SKIP = !existsSync(CHROMIUM) && process.env['CI'] !== 'true';
if (SKIP) console.warn(`bundlers: skipped; Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`);

/** An executable of this repo's devDependencies (`node_modules/.bin/<name>`), run in the app's folder. */
export function bin(name: string): string {
  return join(ROOT, 'node_modules', '.bin', name);
}
/** The flags test/runtimes/browser/run.ts launches with (importing it would run the smoke). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** Training steps the app takes. */
export const APP_STEPS = 12;
const PAGE_TIMEOUT_MS = 60_000;

/**
 * The app's entry module: `import … from '<specifier>'`, then `setup` (e.g. an `await init(…)`),
 * then the training loop.
 */
export function appSource(specifier: string, setup = ''): string {
  return `import { F, getDefaultBackend, init, manualSeed, nn, optim, rand } from '${specifier}';

const report = { losses: [], backend: null, error: null, done: false, readyMs: performance.now() };
globalThis.__app = report;
try {
  void init;
  ${setup}
  manualSeed(0);
  const encoder = new nn.Sequential(new nn.Linear(28 * 28, 64), new nn.ReLU(), new nn.Linear(64, 3));
  const decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 28 * 28));
  const optimizer = new optim.Adam([...encoder.parameters(), ...decoder.parameters()], { lr: 1e-3 });
  const x = rand([32, 28 * 28]);
  for (let step = 0; step < ${APP_STEPS}; step++) {
    optimizer.zeroGrad();
    const loss = F.mseLoss(decoder.forward(encoder.forward(x)), x);
    loss.backward();
    optimizer.step();
    report.losses.push(await loss.item());
  }
  report.backend = getDefaultBackend().name;
  report.done = true;
} catch (error) {
  report.error = String((error && error.stack) || error);
}
`;
}

/** A page that loads `script` (a module unless `classic`). */
export function pageHtml(script: string, classic = false): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>app</title></head>
<body><script ${classic ? '' : 'type="module" '}src="${script}"></script></body></html>
`;
}

/** What the app left in `globalThis.__app`. */
export interface AppReport {
  readonly losses: number[];
  readonly backend: string | null;
  readonly error: string | null;
  readonly done: boolean;
  /** Milliseconds from navigation to the app's first line (the imports, kernels included). */
  readonly readyMs: number;
}

/** One page load: the app's report and what the page fetched. */
export interface PageRun {
  readonly report: AppReport | undefined;
  /** Requests that failed or answered 400 or more: `<status> <url>`. */
  readonly failed: string[];
  /** Every `.wasm` URL the page requested, with its status and content type. */
  readonly wasm: string[];
  /** Uncaught errors and console errors. */
  readonly errors: string[];
}

/** A headless Chromium for one suite. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: PAGE_TIMEOUT_MS });
}

/**
 * Opens `url` in a fresh context and waits until the app is done or failed.
 * @example const run = await runApp(browser, 'http://127.0.0.1:5173/');
 */
export async function runApp(browser: Browser, url: string): Promise<PageRun> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const failed: string[] = [];
  const wasm: string[] = [];
  const errors: string[] = [];
  page.on('requestfailed', (request) => failed.push(`${request.failure()?.errorText ?? 'failed'} ${request.url()}`));
  page.on('response', (response) => {
    if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    if (new URL(response.url()).pathname.endsWith('.wasm')) {
      wasm.push(`${response.status()} ${response.headers()['content-type'] ?? ''} ${response.url()}`);
    }
  });
  page.on('pageerror', (error) => errors.push(error.stack ?? error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  try {
    await page.goto(url, { timeout: PAGE_TIMEOUT_MS });
    await page.waitForFunction(
      () => {
        const r = (globalThis as { __app?: AppReport }).__app;
        return r !== undefined && (r.done || r.error !== null);
      },
      null,
      { timeout: PAGE_TIMEOUT_MS, polling: 50 },
    );
    const report = await page.evaluate(() => (globalThis as { __app?: AppReport }).__app);
    return { report, failed, wasm, errors };
  } catch (error) {
    errors.push(`runApp: ${String(error)}`);
    return { report: undefined, failed, wasm, errors };
  } finally {
    await context.close();
  }
}

/** Shipped bytes of a build: JavaScript and wasm, raw and gzipped (level 9). */
export interface ShippedSizes {
  readonly js: number;
  readonly jsGzip: number;
  readonly wasm: number;
  readonly wasmGzip: number;
  readonly wasmFiles: string[];
}

/** Sums the `.js` and `.wasm` files under `dir` (source maps left out). */
export function shippedSizes(dir: string): ShippedSizes {
  let js = 0;
  let jsGzip = 0;
  let wasm = 0;
  let wasmGzip = 0;
  const wasmFiles: string[] = [];
  const walk = (folder: string): void => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.js') || name.endsWith('.mjs')) {
        const bytes = readFileSync(path);
        js += bytes.byteLength;
        jsGzip += gzipSync(bytes, { level: 9 }).byteLength;
      } else if (name.endsWith('.wasm')) {
        const bytes = readFileSync(path);
        wasm += bytes.byteLength;
        wasmGzip += gzipSync(bytes, { level: 9 }).byteLength;
        wasmFiles.push(name);
      }
    }
  };
  walk(dir);
  return { js, jsGzip, wasm, wasmGzip, wasmFiles: wasmFiles.sort() };
}

/** One line for the suite's output: what a build ships and how fast its app started. */
export function describeBuild(name: string, sizes: ShippedSizes, run: PageRun): string {
  const kB = (n: number): string => `${(n / 1000).toFixed(1)} kB`;
  return (
    `bundlers: ${name}: JS ${kB(sizes.js)} (gzip ${kB(sizes.jsGzip)}), wasm ${kB(sizes.wasm)} (gzip ${kB(sizes.wasmGzip)}) ` +
    `[${sizes.wasmFiles.join(', ')}]; ready ${run.report?.readyMs.toFixed(0) ?? '?'} ms; fetched ${run.wasm.join(', ') || 'no wasm'}`
  );
}

/** The checks every bundled app passes: it trained, the loss fell, and no request failed. */
export function trainedCleanly(run: PageRun): { ok: boolean; why: string } {
  const losses = run.report?.losses ?? [];
  const ok =
    run.report?.done === true &&
    run.report.backend === 'wasm' &&
    losses.length > 0 &&
    losses.every(Number.isFinite) &&
    (losses.at(-1) ?? Infinity) < (losses[0] ?? -Infinity) &&
    run.failed.length === 0 &&
    run.errors.length === 0;
  return { ok, why: JSON.stringify({ ...run, report: run.report }, null, 2) };
}
