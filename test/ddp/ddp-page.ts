/**
 * @module ddp/ddp-page — runs test/ddp/fixtures/browser-ddp.html (the page that starts rank 0's
 * module worker) in a browser and returns what rank 0 posted, with the page's console. Shared by
 * test/ddp/browser.test.ts (a bundle of dist/) and test/bundlers/ddp-page.test.ts (a bundle of the
 * installed tarball).
 */
import type { Browser } from 'playwright-core';
import { expect } from 'vitest';

const PAGE_TIMEOUT_MS = 40_000;

/** What rank 0 posts to the page: its result, or the error that ended it. */
export interface DdpPageResult {
  result?: { losses: number[]; weights: number[]; globalStep: number; worldSize: number };
  error?: string;
}

/**
 * Opens `browser-ddp.html?<query>` under `site` and waits for rank 0's message.
 * @example const r = await runDdpPage(browser, server.url, 'devices=2&steps=10');
 */
export async function runDdpPage(
  browser: Browser,
  site: URL,
  query: string,
): Promise<DdpPageResult & { log: string[] }> {
  const page = await browser.newPage();
  const log: string[] = [];
  page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
  try {
    await page.goto(new URL(`browser-ddp.html?${query}`, site).href);
    await page.waitForFunction(() => (globalThis as { __ddp?: unknown }).__ddp !== undefined, null, {
      timeout: PAGE_TIMEOUT_MS,
      polling: 100,
    });
    const out = await page.evaluate(() => (globalThis as unknown as { __ddp: DdpPageResult }).__ddp);
    return { ...out, log };
  } catch (error) {
    throw new Error(`ddp: the page ${query} gave no result; its console:\n${log.join('\n')}`, { cause: error });
  } finally {
    await page.close();
  }
}

/** The largest absolute difference of two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
