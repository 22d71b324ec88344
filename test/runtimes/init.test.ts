/**
 * @module init.test — `init()` options and the Node platform, through bindings/node.ts.
 *
 * The same `runtime/setup.ts` serves every binding; Deno's and the browser's
 * platforms are exercised by the runtime smoke (runtimes.test.ts).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BackendError,
  getDefaultBackend,
  getPlatform,
  init,
  nodePlatform,
  tensor,
  ValueError,
} from '../../bindings/node.ts';

const BUILD = new URL('../../build/', import.meta.url);

describe('init', () => {
  afterAll(async () => {
    await init();
  });

  it('init: the import alone installs the node platform and a wasm default backend', () => {
    expect(getPlatform()).toBe(nodePlatform);
    expect(getDefaultBackend().name).toBe('wasm');
  });

  it('init: switches the default backend and returns it', async () => {
    const reference = await init({ backend: 'reference' });
    expect(reference.name).toBe('reference');
    expect(getDefaultBackend()).toBe(reference);
    expect(Array.from(await tensor([1, 2, 3]).mul(2).data())).toEqual([2, 4, 6]);
    const wasm = await init({ deterministic: true });
    expect(wasm.name).toBe('wasm');
    expect(getDefaultBackend()).toBe(wasm);
    expect(Array.from(await tensor([1, 2, 3]).mul(2).data())).toEqual([2, 4, 6]);
  });

  it('init: takes the kernels as bytes (Uint8Array or ArrayBuffer)', async () => {
    const bytes = new Uint8Array(await readFile(new URL('kernels-simd.wasm', BUILD)));
    expect((await init({ deterministic: true, kernelBytes: bytes })).name).toBe('wasm');
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    expect((await init({ deterministic: true, kernelBytes: buffer })).name).toBe('wasm');
  });

  it('init: takes a kernel file URL, or a folder URL ending in /', async () => {
    expect((await init({ deterministic: true, kernelUrl: new URL('kernels-simd.wasm', BUILD) })).name).toBe('wasm');
    expect((await init({ deterministic: true, kernelUrl: BUILD.href })).name).toBe('wasm');
  });

  it('init: a missing kernel URL is a BackendError naming the file', async () => {
    const missing = new URL('no-such-folder/', BUILD);
    await expect(init({ kernelUrl: missing })).rejects.toThrow(BackendError);
    await expect(init({ kernelUrl: missing })).rejects.toThrow(
      /init: cannot load the wasm kernels; expected kernels-\w+\.wasm at kernelUrl/,
    );
  });

  it('init: rejects bad options with a ValueError', async () => {
    await expect(init({ backend: 'webgl' as 'wasm' })).rejects.toThrow(ValueError);
    await expect(init({ backend: 'webgl' as 'wasm' })).rejects.toThrow(
      "init: unknown backend; expected one of 'wasm', 'reference', got \"webgl\"",
    );
    await expect(init({ kernelBytes: new Uint8Array(8), kernelUrl: BUILD })).rejects.toThrow(
      /expected at most one kernel source/,
    );
    await expect(init({ backend: 'reference', kernelBytes: new Uint8Array(8) })).rejects.toThrow(
      /kernelBytes applies to the wasm backend only/,
    );
    await expect(init({ deterministic: 'yes' as unknown as boolean })).rejects.toThrow(ValueError);
  });

  it('init: garbage kernel bytes are a BackendError', async () => {
    await expect(init({ kernelBytes: new Uint8Array([1, 2, 3, 4]) })).rejects.toThrow(BackendError);
  });
});

describe('node platform', () => {
  it('node platform: writeFile replaces atomically and leaves no temporary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lightning-ts-node-'));
    try {
      await nodePlatform.mkdirp(join(dir, 'a', 'b'));
      const path = join(dir, 'a', 'b', 'x.bin');
      await nodePlatform.writeFile(path, new Uint8Array([1, 2, 3]));
      await nodePlatform.writeFile(path, new Uint8Array([4, 5]));
      expect(Array.from(await nodePlatform.readFile(path))).toEqual([4, 5]);
      expect(await readdir(join(dir, 'a', 'b'))).toEqual(['x.bin']);
      expect(await nodePlatform.listDir(join(dir, 'a'))).toEqual(['b']);
      await expect(nodePlatform.writeFile(join(dir, 'missing', 'x.bin'), new Uint8Array(1))).rejects.toThrow(/ENOENT/);
      expect(await readdir(dir)).toEqual(['a']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('node platform: removeFile deletes a file and ignores a missing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lightning-ts-node-'));
    try {
      const path = join(dir, 'old.ckpt');
      await nodePlatform.writeFile(path, new Uint8Array([1]));
      await nodePlatform.removeFile(path);
      expect(await nodePlatform.listDir(dir)).toEqual([]);
      await expect(nodePlatform.removeFile(path)).resolves.toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('node platform: env, clock, stdout and core count come from the process', () => {
    process.env['LIGHTNING_TS_INIT_TEST'] = 'on';
    expect(nodePlatform.env('LIGHTNING_TS_INIT_TEST')).toBe('on');
    delete process.env['LIGHTNING_TS_INIT_TEST'];
    expect(nodePlatform.env('LIGHTNING_TS_INIT_TEST')).toBeUndefined();
    const t0 = nodePlatform.now();
    expect(nodePlatform.now()).toBeGreaterThanOrEqual(t0);
    expect(nodePlatform.stdout.isTTY).toBe(process.stdout.isTTY === true);
    expect(nodePlatform.hardwareConcurrency).toBeGreaterThanOrEqual(1);
    expect(nodePlatform.name).toBe('node');
  });
});
