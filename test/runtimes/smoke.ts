/**
 * @module smoke — one tiny training run that every runtime executes the same way.
 *
 * Platform-free: each runtime's entry passes the library it imported and a
 * line printer. With deterministic kernels the printed lines must be bitwise
 * identical in Node, Deno and Chromium (runtimes.test.ts compares them).
 */
import type * as Library from '../../runtime/index.ts';
import type { InitFunction } from '../../runtime/setup.ts';
import { getPlatform } from '../../runtime/platform.ts';

/** What the smoke needs: the public API plus the binding's `init`. */
export type SmokeLibrary = typeof Library & { readonly init: InitFunction };

/** SGD steps the smoke takes; runtimes.test.ts expects this many loss lines. */
export const SMOKE_STEPS = 5;

/** Every line the smoke prints starts with this, so runners can pick them out. */
export const SMOKE_PREFIX = 'smoke ';

/**
 * The float32 bit pattern of `value`, as 8 hex digits.
 * @example float32Hex(1) // '3f800000'
 */
export function float32Hex(value: number): string {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, true);
  return view.getUint32(0, true).toString(16).padStart(8, '0');
}

/**
 * FNV-1a (32-bit) over a sequence of byte arrays.
 * @example fnv1a([new Uint8Array([97])]) // 0xe40c292c ('a')
 */
export function fnv1a(chunks: readonly Uint8Array[]): number {
  let hash = 0x811c9dc5;
  for (const bytes of chunks) {
    for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Exercises the host's Platform files inside `dir` (which must exist and be
 * empty): nested mkdirp, an atomic write, an overwrite, a read-back and a
 * listing that shows no temporary files left behind.
 */
async function checkFiles(dir: string, bytes: Uint8Array): Promise<string> {
  const platform = getPlatform();
  const sub = `${dir}/a/b`;
  await platform.mkdirp(sub);
  await platform.mkdirp(sub);
  await platform.writeFile(`${sub}/w.bin`, new Uint8Array([1, 2, 3]));
  await platform.writeFile(`${sub}/w.bin`, bytes);
  const back = await platform.readFile(`${sub}/w.bin`);
  const same = back.length === bytes.length && back.every((b, i) => b === bytes[i]);
  const listing = [...(await platform.listDir(sub)), '|', ...(await platform.listDir(`${dir}/a`))].join(' ');
  let missing = 'no error';
  try {
    await platform.readFile(`${sub}/absent.bin`);
  } catch {
    missing = 'rejects';
  }
  await platform.writeFile(`${sub}/gone.bin`, bytes);
  await platform.removeFile(`${sub}/gone.bin`);
  await platform.removeFile(`${sub}/gone.bin`);
  const afterRemove = (await platform.listDir(sub)).join(' ');
  const t0 = platform.now();
  const t1 = platform.now();
  return `roundtrip ${same ? 'ok' : 'differs'}; listing ${listing}; missing file ${missing}; after remove ${afterRemove}; clock ${t1 >= t0 ? 'monotonic' : 'backwards'}`;
}

/**
 * Trains an 8→16→ReLU→4 MLP for {@link SMOKE_STEPS} SGD steps on seeded data,
 * printing each loss (float32 bits and decimal) and a hash of the final
 * weights; returns the weights' bytes.
 */
async function train(lib: SmokeLibrary, print: (line: string) => void): Promise<Uint8Array> {
  const name = lib.getDefaultBackend().name;
  lib.manualSeed(0);
  const w1 = lib.randn([8, 16]).mul(0.35).requiresGrad_();
  const b1 = lib.zeros([16]).requiresGrad_();
  const w2 = lib.randn([16, 4]).mul(0.25).requiresGrad_();
  const b2 = lib.zeros([4]).requiresGrad_();
  const params = [w1, b1, w2, b2];
  const x = lib.randn([32, 8]);
  const y = lib.randn([32, 4]);
  const lr = 0.1;
  for (let step = 0; step < SMOKE_STEPS; step++) {
    const loss = x.matmul(w1).add(b1).relu().matmul(w2).add(b2).sub(y).pow(2).mean();
    const value = await loss.item();
    print(`${SMOKE_PREFIX}${name} loss ${step} 0x${float32Hex(value)} ${value.toPrecision(9)}`);
    loss.backward();
    lib.noGrad(() => {
      for (const p of params) {
        p.sub_(p.grad!.mul(lr));
        p.grad = null;
      }
    });
  }
  const chunks: Uint8Array[] = [];
  for (const p of params) {
    const data = await p.data();
    chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  print(`${SMOKE_PREFIX}${name} weights fnv1a 0x${fnv1a(chunks).toString(16).padStart(8, '0')}`);
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

/**
 * The smoke: {@link train} on the reference backend (the oracle), then on the
 * deterministic wasm backend, which stays the default; then the Platform's
 * files under `scratchDir`. runtimes.test.ts checks that wasm tracks the
 * reference, and that every line is the same in every runtime.
 *
 * @example
 * import * as lib from '../../bindings/node.ts';
 * await runSmoke(lib, console.log, await mkdtemp('/tmp/smoke-'));
 */
export async function runSmoke(lib: SmokeLibrary, print: (line: string) => void, scratchDir: string): Promise<void> {
  await lib.init({ backend: 'reference' });
  await train(lib, print);
  const backend = await lib.init({ deterministic: true });
  print(`${SMOKE_PREFIX}backend ${backend.name}`);
  const weights = await train(lib, print);
  print(`${SMOKE_PREFIX}files ${await checkFiles(scratchDir, weights)}`);
  print(`${SMOKE_PREFIX}done`);
}
