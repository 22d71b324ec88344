/**
 * @module bindings/browser-fs.test — the browser file system: the in-memory store (here, in
 * Node) has a disk's faults, and OPFS in headless Chromium maps its DOMExceptions
 * (NotFoundError, TypeMismatchError) to typed FileSystemErrors.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { memoryFiles } from '../../bindings/browser-fs.ts';
import { tempFileName } from '../../bindings/temp-files.ts';
import { FileSystemError } from '../../runtime/errors.ts';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** As test/runtimes/browser/run.ts: quiet, offline, no sandbox (root in a container). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The code a rejected call carries. */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof FileSystemError)) throw new Error(`expected a FileSystemError, got ${String(error)}`);
  return error.code;
}

describe('browser file system', () => {
  it('browser-fs: the in-memory store has ENOENT, ENOTDIR, EISDIR and EEXIST where a disk has them', async () => {
    const files = memoryFiles();
    await files.mkdirp('runs/d');
    await files.writeFile('runs/file', new Uint8Array([1]));
    expect(await codeOf(files.readFile('runs/missing'))).toBe('ENOENT');
    expect(await codeOf(files.readFile('runs/d'))).toBe('EISDIR');
    expect(await codeOf(files.writeFile('runs/nope/x', new Uint8Array(1)))).toBe('ENOENT');
    expect(await codeOf(files.writeFile('runs/file/x', new Uint8Array(1)))).toBe('ENOTDIR');
    expect(await codeOf(files.writeFile('runs/d', new Uint8Array(1)))).toBe('EISDIR');
    expect(await codeOf(files.listDir('runs/file'))).toBe('ENOTDIR');
    expect(await codeOf(files.mkdirp('runs/file'))).toBe('EEXIST');
    expect(await codeOf(files.mkdirp('runs/file/sub'))).toBe('ENOTDIR');
    expect(await codeOf(files.removeFile('runs/d'))).toBe('EISDIR');
    await files.removeFile('runs/missing');
    expect(await files.listDir('runs')).toEqual(['d', 'file']);
    expect(await files.sweepTempFiles('runs')).toEqual([]);
  });

  it('browser-fs: makeDirExclusive in memory gives one of two racing callers the folder; a file on the way is ENOTDIR', async () => {
    const files = memoryFiles();
    await files.writeFile('file', new Uint8Array([1]));
    const both = await Promise.all([files.makeDirExclusive('runs/v0'), files.makeDirExclusive('runs/v0')]);
    expect(both.sort()).toEqual([false, true]);
    expect(await files.makeDirExclusive('runs/v1')).toBe(true);
    expect(await files.makeDirExclusive('file')).toBe(false);
    expect(await codeOf(files.makeDirExclusive('file/v0'))).toBe('ENOTDIR');
    expect(await files.listDir('runs')).toEqual(['v0', 'v1']);
  });

  it.skipIf(!existsSync(CHROMIUM))(
    'browser-fs: OPFS faults in Chromium are typed FileSystemErrors',
    { timeout: 120_000 },
    async () => {
      const bundle = await build({
        entryPoints: [`${HERE}browser-fs-check.ts`],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        write: false,
        logLevel: 'silent',
      });
      const script = bundle.outputFiles[0]?.text ?? '';
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        timeout: 60_000,
      });
      try {
        const page = await browser.newPage();
        // http://localhost is a secure context, so OPFS is there; the route answers without a server.
        await page.route('http://localhost:9/**', (route) =>
          route.fulfill(
            route.request().url().endsWith('.js')
              ? { contentType: 'text/javascript', body: script }
              : { contentType: 'text/html', body: '<!doctype html><script type="module" src="/check.js"></script>' },
          ),
        );
        await page.goto('http://localhost:9/');
        await page.waitForFunction(() => (globalThis as { __fsCheck?: unknown }).__fsCheck !== undefined, undefined, {
          timeout: 60_000,
        });
        const out = (await page.evaluate(() => (globalThis as { __fsCheck?: unknown }).__fsCheck)) as Record<
          string,
          unknown
        >;
        expect(out['error']).toBeUndefined();
        expect(out['enotdir']).toEqual({
          threw: true,
          typed: true,
          code: 'ENOTDIR',
          path: 'runs/file/x.ckpt',
          operation: 'writeFile',
          cause: 'TypeMismatchError',
          message:
            'writeFile: a part of the path is a file, not a directory, writing runs/file/x.ckpt; expected directories along runs/file, got TypeMismatchError',
        });
        expect(out['eisdir']).toMatchObject({ code: 'EISDIR', operation: 'writeFile', cause: 'TypeMismatchError' });
        expect(out['enoent']).toMatchObject({ code: 'ENOENT', operation: 'readFile', cause: 'NotFoundError' });
        expect(out['enoentWrite']).toMatchObject({
          code: 'ENOENT',
          operation: 'writeFile',
          message: expect.stringContaining('(call mkdirp first)'),
        });
        expect(out['eexist']).toMatchObject({ code: 'EEXIST', operation: 'mkdirp' });
        expect(out['listFile']).toMatchObject({ code: 'ENOTDIR', operation: 'listDir' });
        expect(out['removeDir']).toMatchObject({ code: 'EISDIR', operation: 'removeFile' });
        expect(out['removeMissing']).toEqual({ threw: false });
        expect(out['read']).toEqual([4, 5]);
        expect(out['swept']).toEqual([]);
        expect(out['list']).toEqual([tempFileName('b.ckpt', 'zz9', 0), 'a.ckpt', 'd', 'file']);
        expect((out['exclusive'] as boolean[]).sort()).toEqual([false, true]);
        expect(out['exclusiveAgain']).toBe(false);
        expect(out['exclusiveNew']).toBe(true);
        expect(out['exclusiveUnderFile']).toMatchObject({ code: 'ENOTDIR', operation: 'makeDirExclusive' });
        expect(out['exclusiveList']).toEqual(['deep', 'v0']);
      } finally {
        await browser.close();
      }
    },
  );
});
