/**
 * @module browser/run — runs the runtime smoke in headless Chromium and prints its lines.
 *
 * Run: `npm run build && node dist/test/runtimes/browser/run.js`.
 * Chromium comes from `CHROMIUM_PATH`, default /usr/bin/chromium
 * (`apt-get install chromium`; .ci/run does). The smoke's lines go to stdout,
 * the page's console and diagnostics to stderr. Exit status 0 only when the
 * smoke finished.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serveStatic } from './server.ts';

/** Where Chromium is looked for unless CHROMIUM_PATH says otherwise. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet, offline, sandbox-free (root in a container) headless run. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

// From dist/test/runtimes/browser/run.js or test/runtimes/browser/run.ts, the repo is the
// folder that holds dist/ or test/.
const here = fileURLToPath(new URL('./', import.meta.url));
const repoRoot = here.replace(/(?:\/dist)?\/test\/runtimes\/browser\/$/, '/');
const executablePath = process.env['CHROMIUM_PATH'] ?? DEFAULT_CHROMIUM;
const timeoutMs = Number(process.env['SMOKE_TIMEOUT_MS'] ?? 90_000);

if (!existsSync(executablePath)) {
  console.error(
    `browser smoke: Chromium not found; expected an executable at ${executablePath} (apt-get install -y chromium, or set CHROMIUM_PATH), got nothing there`,
  );
  process.exit(2);
}

const server = await serveStatic(repoRoot);
const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: timeoutMs });
let status = 1;
try {
  const page = await browser.newPage();
  let opfsMissing = false;
  page.on('console', (message) => {
    if (message.text().includes('OPFS is unavailable')) opfsMissing = true;
    console.error(`[page ${message.type()}] ${message.text()}`);
  });
  page.on('pageerror', (error) => console.error(`[page error] ${error.stack ?? error.message}`));
  page.on('requestfailed', (request) =>
    console.error(`[page request failed] ${request.url()} ${request.failure()?.errorText ?? ''}`),
  );
  const pageUrl = new URL('test/runtimes/browser/index.html', server.url);
  const response = await page.goto(pageUrl.href, { timeout: timeoutMs });
  if (response === null || !response.ok()) {
    throw new Error(
      `browser smoke: cannot load the page; expected HTTP 200 from ${pageUrl.href}, got ${response?.status() ?? 'no response'}`,
    );
  }
  await page.waitForFunction(
    () => {
      const s = (globalThis as { __smoke?: { done: boolean; error?: string } }).__smoke;
      return s !== undefined && (s.done || s.error !== undefined);
    },
    null,
    { timeout: timeoutMs, polling: 50 },
  );
  const result = await page.evaluate(() => ({
    smoke: (globalThis as { __smoke?: { lines: string[]; done: boolean; error?: string } }).__smoke,
    isolated: globalThis.crossOriginIsolated,
    userAgent: navigator.userAgent,
  }));
  console.error(`browser smoke: ${result.userAgent}; crossOriginIsolated ${String(result.isolated)}`);
  for (const line of result.smoke?.lines ?? []) console.log(line);
  if (result.smoke?.error !== undefined) {
    console.error(`browser smoke: the page failed: ${result.smoke.error}`);
  } else if (result.isolated !== true) {
    console.error(
      'browser smoke: the page is not cross-origin isolated; expected COOP/COEP to give crossOriginIsolated true, got false',
    );
  } else if (opfsMissing) {
    console.error(
      'browser smoke: files went to memory; expected OPFS on a secure 127.0.0.1 page, got the in-memory fallback',
    );
  } else {
    status = 0;
  }
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
} finally {
  await browser.close();
  await server.close();
}
process.exit(status);
