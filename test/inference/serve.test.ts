/**
 * @module test/inference/serve.test — the three serving examples (examples/serve/) answer good and
 * bad requests: Node's `http`, `Deno.serve`, and a standard `fetch` handler inside workerd.
 *
 * The setup trains the seed autoencoder 4 steps with the main entry and saves its checkpoint,
 * bundles the inference entry (scripts/bundle-inference.mjs) and each example against it, and
 * starts each server on a loopback port. Embeddings must equal the main entry's forward within 1e-6.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleInference, INFERENCE_ENTRIES } from '../../scripts/bundle-inference.mjs';
import { bundleExample, freePort, images, mainEmbeddings, ROOT, trainCheckpoint } from './serve-helpers.ts';

const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const WORKERD = join(ROOT, 'node_modules', '.bin', 'workerd');
const children: ChildProcess[] = [];
let dir = '';
let ckpt = '';
let good: number[][] = [];
let expected: number[][] = [];

/** Starts a server and resolves with its base URL once it answers. */
async function start(command: string, args: readonly string[], port: number, cwd: string): Promise<string> {
  const child = spawn(command, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: String(port), NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d));
  child.stderr?.on('data', (d: Buffer) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}:\n${output}`);
    try {
      await fetch(`${base}/embed`);
      return base;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${command} did not answer on ${base} in 30 s:\n${output}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lts-serve-'));
  for (const e of INFERENCE_ENTRIES) await bundleInference(e);
  const trained = await trainCheckpoint(dir);
  ckpt = trained.path;
  good = images(5, 1);
  expected = await mainEmbeddings(trained.model, good);
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.pid !== undefined) c.kill('SIGKILL');
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** The same good and bad requests against one server. */
function requestsAgainst(name: string, startServer: () => Promise<string>): void {
  describe(`serve (${name})`, () => {
    let base = '';
    beforeAll(async () => {
      base = await startServer();
    });

    const post = (body: BodyInit, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      fetch(`${base}/embed`, { method: 'POST', body, headers });

    async function errorOf(r: Response): Promise<{ type: string; message: string }> {
      expect(r.headers.get('content-type')).toContain('application/json');
      const j = (await r.json()) as { error: { type: string; message: string } };
      expect(typeof j.error.message).toBe('string');
      return j.error;
    }

    it(`serve (${name}): JSON images get the main entry's embeddings within 1e-6`, async () => {
      const r = await post(JSON.stringify({ images: good }));
      expect(r.status).toBe(200);
      const { embeddings } = (await r.json()) as { embeddings: number[][] };
      expect(embeddings).toHaveLength(good.length);
      embeddings.forEach((row, i) => {
        expect(row).toHaveLength(3);
        row.forEach((v, j) => expect(Math.abs(v - expected[i]![j]!)).toBeLessThanOrEqual(1e-6));
      });
    });

    it(`serve (${name}): raw float32 bytes with X-Shape give the same embeddings`, async () => {
      const raw = new Float32Array(good.flat());
      const r = await post(new Uint8Array(raw.buffer), {
        'content-type': 'application/octet-stream',
        'x-shape': `${good.length},784`,
      });
      expect(r.status).toBe(200);
      const { embeddings } = (await r.json()) as { embeddings: number[][] };
      embeddings.forEach((row, i) =>
        row.forEach((v, j) => expect(Math.abs(v - expected[i]![j]!)).toBeLessThanOrEqual(1e-6)),
      );
    });

    it(`serve (${name}): malformed requests get a typed 4xx`, async () => {
      const cases: [Response, number, string][] = [
        [await post('{"images": [1, 2'), 400, 'invalid_json'],
        [await post(JSON.stringify({ pictures: [] })), 400, 'invalid_request'],
        [await post(JSON.stringify({ images: [[1, 2, 3]] })), 400, 'wrong_length'],
        [await post(JSON.stringify({ images: [good[0]!.map((v, j) => (j === 5 ? 'x' : v))] })), 400, 'not_numbers'],
        [await post(JSON.stringify({ images: images(65, 2) })), 413, 'too_many_images'],
        [await post('x'.repeat((1 << 20) + 1)), 413, 'body_too_large'],
        [await post('a=b', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type'],
        [
          await post(new Uint8Array(12), { 'content-type': 'application/octet-stream', 'x-shape': '1,784' }),
          400,
          'wrong_length',
        ],
        [await fetch(`${base}/embed`), 405, 'method_not_allowed'],
        [await fetch(`${base}/nope`, { method: 'POST' }), 404, 'not_found'],
      ];
      for (const [r, status, type] of cases) {
        expect([r.status, (await errorOf(r)).type]).toEqual([status, type]);
      }
      // The server still answers after the bad requests.
      expect((await post(JSON.stringify({ images: good.slice(0, 1) }))).status).toBe(200);
    });
  });
}

requestsAgainst('node http', async () => {
  const script = await bundleExample('node-server.ts', 'node-server.mjs', 'node');
  return start(process.execPath, [script, ckpt], await freePort(), dir);
});

describe.skipIf(!existsSync(DENO) && process.env['CI'] !== 'true')('deno', () => {
  requestsAgainst('Deno.serve', async () => {
    const script = await bundleExample('deno-server.ts', 'deno-server.mjs', 'deno');
    const args = ['run', '--no-config', '--allow-read', '--allow-net', '--allow-env=PORT', script, ckpt];
    return start(DENO, args, await freePort(), dir);
  });
});

describe.skipIf(!existsSync(WORKERD) && process.env['CI'] !== 'true')('workerd', () => {
  requestsAgainst('workerd fetch', async () => {
    const work = mkdtempSync(join(dir, 'workerd-'));
    await bundleExample('worker.ts', join(work, 'worker.js'), 'worker');
    copyFileSync(join(ROOT, 'build', 'kernels-simd.wasm'), join(work, 'kernels.wasm'));
    copyFileSync(ckpt, join(work, 'weights.bin'));
    const port = await freePort();
    const config = join(ROOT, 'examples', 'serve', 'workerd.capnp');
    writeFileSync(
      join(work, 'workerd.capnp'),
      readFileSync(config, 'utf8').replace('127.0.0.1:8787', `127.0.0.1:${port}`),
    );
    return start(WORKERD, ['serve', join(work, 'workerd.capnp')], port, work);
  });
});
