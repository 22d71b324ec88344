/**
 * @module webgpu/run-browser — runs the parity suite in headless Chromium and prints its lines.
 *
 * Run: `npm run build && node dist/test/runtimes/webgpu/run-browser.js [--backend=webgpu|wasm] [--filter=<text>] [--skip=<text>]`.
 * Chromium comes from `CHROMIUM_PATH`, default /usr/bin/chromium. WebGPU needs
 * `--enable-unsafe-webgpu` on Linux; without a GPU, Chromium runs it on its bundled
 * SwiftShader (a software adapter). The page is served from 127.0.0.1 (a secure context)
 * by the smoke's static server. The report lines go to stdout, the page's console and
 * diagnostics to stderr. Exit status 0 when the run finished (failures are in the report).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serveStatic } from '../browser/server.ts';
import { argValue, parseBackendName } from './parity.ts';

/** Quiet, offline, sandbox-free (root in a container) headless Chromium with WebGPU on. */
export const WEBGPU_CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

interface ParityPage {
  readonly lines: string[];
  readonly current: string;
  readonly done: boolean;
  readonly error?: string;
}

// From dist/test/runtimes/webgpu/run-browser.js or the .ts source, the repo is the folder
// that holds dist/ or test/.
const here = fileURLToPath(new URL('./', import.meta.url));
const repoRoot = here.replace(/(?:\/dist)?\/test\/runtimes\/webgpu\/$/, '/');
const executablePath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const timeoutMs = Number(process.env['PARITY_TIMEOUT_MS'] ?? 240_000);
const which = parseBackendName(argValue(process.argv, 'backend'));
/** The page's query: the backend, and `--filter=` / `--skip=` passed through. */
const query = new URLSearchParams({ backend: which });
for (const name of ['filter', 'skip']) {
  const value = argValue(process.argv, name);
  if (value !== undefined) query.set(name, value);
}
/** Chromium's processes together may hold this much; beyond it the run stops (see treeResidentMiB). */
const maxRssMiB = Number(process.env['PARITY_MAX_RSS_MIB'] ?? 4096);

/**
 * Resident memory of `root` and all its descendants, in MiB, and their pids, from /proc
 * (Linux; nothing elsewhere). WebGPU runs in Chromium's GPU process, a grandchild of this
 * one in another process group (playwright detaches the browser): a shader compile that
 * runs away there (SwiftShader on the matmul kernel, see webgpu-parity.test.ts) would
 * otherwise take the machine's memory.
 */
function processTree(root: number): { mib: number; pids: number[] } {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  let names: string[];
  try {
    names = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return { mib: 0, pids: [] };
  }
  for (const name of names) {
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)$/m.exec(status)?.[1] ?? -1);
      rss.set(Number(name), Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) / 1024);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0;
  const pids: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    total += rss.get(pid) ?? 0;
    pids.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return { mib: Math.round(total), pids };
}

if (!existsSync(executablePath)) {
  console.error(
    `webgpu parity: Chromium not found; expected an executable at ${executablePath} (apt-get install -y chromium, or set CHROMIUM_PATH), got nothing there`,
  );
  process.exit(2);
}

const server = await serveStatic(repoRoot);
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: WEBGPU_CHROMIUM_ARGS,
  timeout: timeoutMs,
});
let status = 1;
let last: ParityPage | undefined;
try {
  const page = await browser.newPage();
  page.on('console', (message) => console.error(`[page ${message.type()}] ${message.text()}`));
  page.on('pageerror', (error) => console.error(`[page error] ${error.stack ?? error.message}`));
  page.on('crash', () => console.error('[page crash] the renderer process crashed'));
  const pageUrl = new URL(`test/runtimes/webgpu/index.html?${query.toString()}`, server.url);
  const response = await page.goto(pageUrl.href, { timeout: timeoutMs });
  if (response === null || !response.ok()) {
    throw new Error(
      `webgpu parity: cannot load the page; expected HTTP 200 from ${pageUrl.href}, got ${response?.status() ?? 'no response'}`,
    );
  }
  const deadline = Date.now() + timeoutMs;
  let shown = '';
  for (;;) {
    last = await page.evaluate(() => (globalThis as { __parity?: ParityPage }).__parity);
    // The check running now, whenever it changes: a hang or a GPU-process crash names it.
    if (last !== undefined && last.current !== shown) {
      shown = last.current;
      console.error(shown);
    }
    if (last !== undefined && (last.done || last.error !== undefined)) break;
    const tree = processTree(process.pid);
    if (tree.mib > maxRssMiB) {
      for (const pid of tree.pids) if (pid !== process.pid) process.kill(pid, 'SIGKILL');
      throw new Error(
        `webgpu parity: Chromium's processes passed their memory limit; expected at most ${maxRssMiB} MiB resident (PARITY_MAX_RSS_MIB), got ${tree.mib} MiB while running: ${last?.current ?? 'nothing yet'}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(
        `webgpu parity: the page did not finish; expected a report within ${timeoutMs} ms, got none (running: ${last?.current ?? 'nothing yet'})`,
      );
    await new Promise((done) => setTimeout(done, 250));
  }
  for (const line of last.lines) console.log(line);
  if (last.error !== undefined) console.error(`webgpu parity: the page failed: ${last.error}`);
  else status = 0;
} catch (error) {
  for (const line of last?.lines ?? []) console.log(line);
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
} finally {
  await browser.close().catch(() => undefined);
  await server.close();
}
process.exit(status);
