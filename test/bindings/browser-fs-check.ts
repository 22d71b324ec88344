/**
 * @module bindings/browser-fs-check — run in Chromium by browser-fs.test.ts (bundled there with
 * esbuild): OPFS faults through bindings/browser-fs.ts, left in `globalThis.__fsCheck`.
 */
import { opfsFiles } from '../../bindings/browser-fs.ts';
import { tempFileName } from '../../bindings/temp-files.ts';
import { FileSystemError } from '../../runtime/errors.ts';

/** What a failing call threw, as plain data. */
async function fault(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
    return { threw: false };
  } catch (e) {
    if (!(e instanceof FileSystemError)) return { threw: true, typed: false, message: String(e) };
    return {
      threw: true,
      typed: true,
      code: e.code,
      path: e.path,
      operation: e.operation,
      message: e.message,
      cause: (e.cause as { name?: string }).name,
    };
  }
}

async function check(): Promise<Record<string, unknown>> {
  const root = await navigator.storage.getDirectory();
  const files = opfsFiles(root);
  await files.mkdirp('runs/d');
  await files.writeFile('runs/file', new Uint8Array([1]));
  await files.writeFile('runs/a.ckpt', new Uint8Array([1, 2, 3]));
  await files.writeFile('runs/a.ckpt', new Uint8Array([4, 5]));
  const stale = tempFileName('b.ckpt', 'zz9', 0);
  await files.writeFile(`runs/${stale}`, new Uint8Array(1));
  return {
    enotdir: await fault(files.writeFile('runs/file/x.ckpt', new Uint8Array(1))),
    eisdir: await fault(files.writeFile('runs/d', new Uint8Array(1))),
    enoent: await fault(files.readFile('runs/missing')),
    enoentWrite: await fault(files.writeFile('runs/nope/x', new Uint8Array(1))),
    eexist: await fault(files.mkdirp('runs/file')),
    listFile: await fault(files.listDir('runs/file')),
    removeDir: await fault(files.removeFile('runs/d')),
    removeMissing: await fault(files.removeFile('runs/missing')),
    read: Array.from(await files.readFile('runs/a.ckpt')),
    // A fresh temporary file of another (unknowable) writer stays.
    swept: await files.sweepTempFiles('runs'),
    list: await files.listDir('runs'),
    // Two claims of one name at once: exactly one wins; a file on the way is ENOTDIR.
    exclusive: await Promise.all([files.makeDirExclusive('runs/d/v0'), files.makeDirExclusive('runs/d/v0')]),
    exclusiveAgain: await files.makeDirExclusive('runs/d/v0'),
    exclusiveNew: await files.makeDirExclusive('runs/d/deep/v1'),
    exclusiveUnderFile: await fault(files.makeDirExclusive('runs/file/v0')),
    exclusiveList: await files.listDir('runs/d'),
  };
}

(globalThis as { __fsCheck?: unknown }).__fsCheck = await check().catch((e: unknown) => ({ error: String(e) }));
