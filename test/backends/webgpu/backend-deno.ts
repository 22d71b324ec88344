/**
 * @module webgpu/backend-deno — what only the WebGPU backend has, checked in Deno
 * (navigator.gpu): the buffer pool, double free, readSync, deferred errors (a program that
 * fails to compile, an out-of-range gather/scatter_add index), the binding-size limit,
 * batching and write ordering, the reduction tree, large dispatches, and a lost device.
 *
 * `node_modules/.bin/deno run -A test/backends/webgpu/backend-deno.ts` prints one line per
 * test and exits 1 on any failure.
 */
import type { BufferHandle, TensorView } from '../../../runtime/backend.ts';
import { createReferenceBackend } from '../../../runtime/backends/reference/backend.ts';
import { createWebGPUBackend } from '../../../runtime/backends/webgpu/backend.ts';
import type { WebGPUBackend } from '../../../runtime/backends/webgpu/backend.ts';
import { elementwiseLaunches } from '../../../runtime/backends/webgpu/kernels/elementwise.ts';
import { TREE_MAX_OUT, TREE_MIN_R } from '../../../runtime/backends/webgpu/kernels/reduce.ts';
import type { Launch } from '../../../runtime/backends/webgpu/program.ts';
import {
  BackendError,
  DeviceLostError,
  DisposedError,
  IndexError,
  ShapeError,
  WebGPUError,
} from '../../../runtime/errors.ts';
import { expectClose, toleranceFor } from '../../helpers/tolerance.ts';
import { createRng, randomData } from '../../helpers/random-data.ts';

declare const Deno: { args: string[]; exit(code: number): never };

const found = await navigator.gpu.requestAdapter();
if (found === null) {
  // The vitest wrapper (test/backends/webgpu.test.ts) reports this line as a skip with its reason.
  console.log(
    'SKIP webgpu backend: no WebGPU adapter in Deno; expected navigator.gpu.requestAdapter() to give one, got null',
  );
  Deno.exit(0);
}
const adapter: GPUAdapter = found;
const requiredFeatures: GPUFeatureName[] = adapter.features.has('shader-f16') ? ['shader-f16'] : [];
const device = await adapter.requestDevice({ requiredFeatures });

function assert(cond: boolean, what: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${what}`);
}

/** The error `f` throws (sync or async), or a failure when it does not throw. */
async function thrown(f: () => unknown): Promise<Error> {
  try {
    await f();
  } catch (e) {
    if (e instanceof Error) return e;
    throw new Error(`expected an Error, got ${String(e)}`);
  }
  throw new Error('expected a throw, got none');
}

function view(buffer: BufferHandle, shape: readonly number[], strides?: readonly number[], offset = 0): TensorView {
  const s = strides ?? shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  return { buffer, dtype: buffer.dtype, shape, strides: s, offset };
}

const tests: [string, (be: WebGPUBackend) => Promise<void>][] = [];
function test(name: string, fn: (be: WebGPUBackend) => Promise<void>): void {
  tests.push([name, fn]);
}

test('webgpu: capabilities are float32, int32, bool with async readback; name is webgpu', async (be) => {
  assert(be.name === 'webgpu', 'name');
  assert(be.capabilities.syncReadback === false, 'syncReadback false');
  assert(
    ['float32', 'int32', 'bool'].every((d) => be.capabilities.dtypes.includes(d as 'float32')),
    'dtypes',
  );
  assert(be.features.f16 === device.features.has('shader-f16'), 'features.f16 follows the device');
});

test('webgpu: readSync throws a BackendError that says to await read', async (be) => {
  const b = be.alloc('float32', 4);
  const e = await thrown(() => be.readSync(b, 0, 4));
  assert(e instanceof BackendError && /await backend\.read/.test(e.message), `message: ${e.message}`);
  be.free(b);
});

test('webgpu: freeing twice throws a DisposedError; using a freed buffer too', async (be) => {
  const b = be.alloc('int32', 3);
  be.free(b);
  const e = await thrown(() => be.free(b));
  assert(e instanceof DisposedError && /double free/.test(e.message), `message: ${e.message}`);
  assert((await thrown(() => be.read(b, 0, 3))) instanceof DisposedError, 'read of a freed buffer');
});

test('webgpu: a freed buffer is reused by the next alloc of its size class, and comes back zeroed', async (be) => {
  const a = be.alloc('float32', 100);
  be.write(a, new Float32Array(100).fill(7));
  const gpu = be.gpuBuffer(a);
  const live = be.memory().liveBuffers;
  be.free(a);
  assert(be.memory().liveBuffers === live - 1, 'live count drops');
  const pooled = be.stats().pooledBuffers;
  const b = be.alloc('float32', 120); // same 512-byte class
  assert(be.gpuBuffer(b) === gpu, 'same GPU buffer reused');
  assert(be.stats().pooledBuffers === pooled - 1, 'taken from the pool');
  const data = await be.read(b, 0, 120);
  assert(
    data.every((v) => v === 0),
    'reused buffer is zero',
  );
  assert(be.memory().reservedBytes >= 512, 'reserved bytes count the buffer');
  be.free(b);
});

test('webgpu: bool is stored one per word and read back as a Uint8Array', async (be) => {
  const b = be.alloc('bool', 5);
  be.write(b, new Uint8Array([1, 0, 1, 1, 0]));
  be.write(b, new Uint8Array([0]), 2);
  const out = await be.read(b, 1, 4);
  assert(out instanceof Uint8Array && Array.from(out).join() === '0,0,1,0', `got ${Array.from(out).join()}`);
  be.free(b);
});

test('webgpu: a buffer beyond maxStorageBufferBindingSize is a ShapeError naming the limit', async (be) => {
  const max = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const e = await thrown(() => be.alloc('float32', Math.floor(max / 4) + 1));
  assert(
    e instanceof ShapeError && /maxStorageBufferBindingSize/.test(e.message) && e.message.includes(String(max)),
    `message: ${e.message}`,
  );
});

test('webgpu: a program that fails to compile raises a WebGPUError naming its key at flush, then at once', async (be) => {
  const b = be.alloc('float32', 4);
  const broken: Launch = {
    program: { key: 'broken_test_program', source: () => 'this is not WGSL', workgroupSize: [1, 1, 1] },
    buffers: [{ buffer: be.gpuBuffer(b), readOnly: false }],
    uniforms: new Uint32Array(0),
    workgroups: [1, 1, 1],
  };
  be.launch([broken]);
  const e = await thrown(() => be.flush());
  assert(e instanceof WebGPUError && e.message.includes('broken_test_program'), `message: ${e.message}`);
  const again = await thrown(() => be.launch([broken]));
  assert(
    again instanceof WebGPUError && again.message.includes('broken_test_program'),
    'known-broken program throws synchronously',
  );
  // The error was reported once; the backend keeps working.
  be.write(b, new Float32Array([1, 2, 3, 4]));
  const out = await be.read(b, 0, 4);
  assert(Array.from(out).join() === '1,2,3,4', 'backend still works');
  be.free(b);
});

test('webgpu: deferred checks of 200 unread batches fold, and the first error (a compile error) still comes out first', async () => {
  const be = createWebGPUBackend({ device, maxBatchDispatches: 1 });
  const b = be.alloc('float32', 4);
  be.launch([
    {
      program: { key: 'broken_before_many_batches', source: () => 'fn main( {', workgroupSize: [1, 1, 1] },
      buffers: [{ buffer: be.gpuBuffer(b), readOnly: false }],
      uniforms: new Uint32Array(0),
      workgroups: [1, 1, 1],
    },
  ]);
  const x = be.alloc('float32', 4);
  for (let i = 0; i < 200; i++) be.run('neg', view(x, [4]), [view(b, [4])], {});
  const pending = (be as unknown as { deferred: unknown[] }).deferred.length;
  assert(pending <= 65, `deferred checks fold; got ${pending}`);
  const e = await thrown(() => be.flush());
  assert(e instanceof WebGPUError && e.message.includes('broken_before_many_batches'), `message: ${e.message}`);
  await be.flush();
  be.dispose();
});

test('webgpu: an out-of-range gather index raises an IndexError naming gather at the next read, once', async (be) => {
  const x = be.alloc('float32', 5);
  const idx = be.alloc('int32', 3);
  const out = be.alloc('float32', 3);
  be.write(x, new Float32Array([10, 11, 12, 13, 14]));
  be.write(idx, new Int32Array([0, 7, 1]));
  be.run('gather', view(out, [3]), [view(x, [5]), view(idx, [3])], { axis: 0 });
  const e = await thrown(() => be.read(out, 0, 3));
  assert(
    e instanceof IndexError && /^gather: index out of range; expected 0 <= index < 5, got 7/.test(e.message),
    `message: ${e.message}`,
  );
  be.write(idx, new Int32Array([4, 0, 2]));
  be.run('gather', view(out, [3]), [view(x, [5]), view(idx, [3])], { axis: 0 });
  const ok = await be.read(out, 0, 3);
  assert(Array.from(ok).join() === '14,10,12', `next gather is fine: ${Array.from(ok).join()}`);
  for (const b of [x, idx, out]) be.free(b);
});

test('webgpu: an out-of-range scatter_add index raises an IndexError naming scatter_add at flush', async (be) => {
  const base = be.alloc('int32', 4);
  const idx = be.alloc('int32', 2);
  const src = be.alloc('int32', 2);
  const out = be.alloc('int32', 4);
  be.write(idx, new Int32Array([1, -1]));
  be.run('scatter_add', view(out, [4]), [view(base, [4]), view(idx, [2]), view(src, [2])], { axis: 0 });
  const e = await thrown(() => be.flush());
  assert(
    e instanceof IndexError && /^scatter_add: index out of range; expected 0 <= index < 4, got -1/.test(e.message),
    `message: ${e.message}`,
  );
  await be.flush();
  for (const b of [base, idx, src, out]) be.free(b);
});

test('webgpu: a write after recorded work does not reach back into it', async (be) => {
  const x = be.alloc('float32', 3);
  const y = be.alloc('float32', 3);
  be.write(x, new Float32Array([1, 2, 3]));
  be.run('neg', view(y, [3]), [view(x, [3])], {});
  be.write(x, new Float32Array([10, 20, 30]));
  const out = await be.read(y, 0, 3);
  assert(Array.from(out).join() === '-1,-2,-3', `got ${Array.from(out).join()}`);
  for (const b of [x, y]) be.free(b);
});

test('webgpu: copy between two views of one buffer (read and write binding split through scratch)', async (be) => {
  const b = be.alloc('int32', 8);
  be.write(b, new Int32Array([1, 2, 3, 4, 0, 0, 0, 0]));
  be.run('copy', view(b, [4], [1], 4), [view(b, [4], [-1], 3)], {});
  const out = await be.read(b, 0, 8);
  assert(Array.from(out).join() === '1,2,3,4,4,3,2,1', `got ${Array.from(out).join()}`);
  be.free(b);
});

test('webgpu: batches split at maxBatchDispatches and a chain of 50 ops reads right', async () => {
  const be = createWebGPUBackend({ device, maxBatchDispatches: 4 });
  const a = be.alloc('float32', 33);
  const b = be.alloc('float32', 33);
  be.write(a, new Float32Array(33).fill(1));
  const before = be.stats().submits;
  for (let i = 0; i < 25; i++) {
    be.run('add', view(b, [33]), [view(a, [33]), view(a, [33])], {});
    be.run('add', view(a, [33]), [view(b, [33]), view(b, [33])], {});
  }
  assert(be.stats().submits - before >= 12, `submitted in batches: ${be.stats().submits - before}`);
  const out = await be.read(a, 0, 33);
  assert(
    out.every((v) => v === 4 ** 25),
    `value ${out[0]}`,
  );
  be.dispose();
});

test('webgpu: 600 launches at once grow the uniform arena', async (be) => {
  const b = be.alloc('int32', 600);
  const launches: Launch[] = [];
  for (let i = 0; i < 600; i++) {
    launches.push(
      ...elementwiseLaunches(
        be.kernelContext,
        { buffer: be.gpuBuffer(b), dtype: 'int32', shape: [1], strides: [1], offset: i },
        [],
        { op: 'fill', attrs: { value: i * 3 } },
      ),
    );
  }
  be.launch(launches);
  const out = await be.read(b, 0, 600);
  assert(
    out.every((v, i) => v === i * 3),
    'every fill landed',
  );
  be.free(b);
});

test('webgpu: a long axis takes the fixed tree: within tolerance of the reference and bitwise repeatable', async (be) => {
  const ref = createReferenceBackend();
  const r = 100003;
  const outer = 3;
  assert(r > TREE_MIN_R && outer <= TREE_MAX_OUT, 'shape takes the tree');
  const data = randomData('float32', outer * r, createRng(7), {}) as Float32Array;
  data[5] = NaN;
  data[r + 17] = 1e9;
  data[r + 99] = 1e9; // a tie: the first index wins
  const results: Record<string, ArrayLike<number>[]> = {};
  for (const op of ['sum', 'max', 'argmax', 'min', 'argmin'] as const) {
    const outDType = op.startsWith('arg') ? 'int32' : 'float32';
    for (const [label, backend] of [
      ['webgpu', be],
      ['webgpu again', be],
      ['reference', ref],
    ] as const) {
      const x = backend.alloc('float32', outer * r);
      backend.write(x, data);
      const o = backend.alloc(outDType, outer);
      backend.run(op, view(o, [outer, 1]), [view(x, [outer, r])], { axis: 1 });
      (results[op] ??= []).push(await backend.read(o, 0, outer));
      void label;
      backend.free(x);
      backend.free(o);
    }
    const [a, b, e] = results[op] as [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>];
    assert(
      Array.from(a).every((v, i) => Object.is(v, b[i])),
      `${op}: two runs bitwise equal`,
    );
    expectClose(a, e, toleranceFor(op, outDType, { terms: r }), `${op} over ${r}`);
    if (op !== 'sum')
      assert(
        Array.from(a).every((v, i) => Object.is(v, e[i])),
        `${op}: selection equals the reference exactly`,
      );
  }
});

test('webgpu: more than 65535 workgroups of elements dispatch in two dimensions', async (be) => {
  const n = 65536 * 256 + 77;
  const b = be.alloc('int32', n);
  be.run('fill', view(b, [n]), [], { value: -5 });
  const tail = await be.read(b, n - 300, 300);
  const head = await be.read(b, 0, 3);
  assert(tail.every((v) => v === -5) && head.every((v) => v === -5), 'every element filled');
  be.free(b);
});

test('webgpu: round_f16 and round_bf16 match the reference at the edges (ties, subnormals, overflow, NaN)', async (be) => {
  const ref = createReferenceBackend();
  const values: number[] = [
    0,
    -0,
    1,
    -1,
    65504,
    65519.99,
    65520,
    -65520,
    65536,
    3.4e38,
    -3.4e38,
    Infinity,
    -Infinity,
    NaN,
    2 ** -14,
    2 ** -14 * (1 - 2 ** -11),
    2 ** -24,
    2 ** -25,
    2 ** -25 * 1.0001,
    3 * 2 ** -25,
    2 ** -26,
    1e-45,
    -1e-40,
    5.96e-8,
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    1 + 2 ** -8,
    1 + 3 * 2 ** -8,
    0.1,
    -0.3,
    1234.5678,
    6.1e-5,
    -6.1e-5,
    3.0e-5,
    2049,
    2051,
  ];
  const rng = createRng(11);
  for (let i = 0; i < 2000; i++) values.push((rng() - 0.5) * 2 ** Math.floor(rng() * 60 - 40));
  const data = new Float32Array(values);
  for (const op of ['round_f16', 'round_bf16'] as const) {
    const outs: ArrayLike<number>[] = [];
    for (const backend of [be, ref]) {
      const x = backend.alloc('float32', data.length);
      backend.write(x, data);
      const o = backend.alloc('float32', data.length);
      backend.run(op, view(o, [data.length]), [view(x, [data.length])], {});
      outs.push(await backend.read(o, 0, data.length));
      backend.free(x);
      backend.free(o);
    }
    const [a, e] = outs as [ArrayLike<number>, ArrayLike<number>];
    const bad = Array.from(data).findIndex((_, i) => !Object.is(a[i], e[i]));
    assert(bad < 0, `${op}(${data[bad]}): expected ${e[bad]}, got ${a[bad]}`);
  }
});

test('webgpu: dispose frees everything; later calls throw a DisposedError', async () => {
  const be = createWebGPUBackend({ device });
  be.alloc('float32', 10);
  be.dispose();
  assert(be.memory().liveBuffers === 0, 'no live buffers');
  assert((await thrown(() => be.alloc('float32', 1))) instanceof DisposedError, 'alloc after dispose');
});

test('webgpu: a lost device rejects every later call with a DeviceLostError naming the reason', async () => {
  const own = await adapter.requestDevice();
  const be = createWebGPUBackend({ device: own });
  const b = be.alloc('float32', 4);
  own.destroy();
  const lost = await be.lost;
  assert(lost instanceof DeviceLostError && /destroyed/.test(lost.message), `lost: ${lost.message}`);
  const e1 = await thrown(() => be.alloc('float32', 1));
  const e2 = await thrown(() => be.read(b, 0, 4));
  const e3 = await thrown(() => be.run('neg', view(b, [4]), [view(b, [4])], {}));
  assert(
    [e1, e2, e3].every((e) => e instanceof DeviceLostError && /destroyed/.test(e.message)),
    `errors: ${e1.message}`,
  );
});

const filter = Deno.args[0];
let failed = 0;
let ran = 0;
for (const [name, fn] of tests) {
  if (filter !== undefined && !name.includes(filter)) continue;
  ran++;
  const be = createWebGPUBackend({ device, adapterInfo: adapter.info });
  try {
    await fn(be);
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  } finally {
    be.dispose();
  }
}
console.log(`${ran - failed} of ${ran} passed`);
Deno.exit(failed === 0 ? 0 : 1);
