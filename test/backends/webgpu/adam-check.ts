/**
 * @module adam-check — the WebGPU fused `adam` kernel against the reference backend, run in
 * Deno: `deno run -A test/backends/webgpu/adam-check.ts`. Covers separate buffers per tensor
 * (one launch per buffer tuple), packed flat buffers (one launch for every entry), one buffer
 * shared by param and moments (bound once), more entries than one table holds (split), empty
 * entries, and every flavour: Adam with L2 decay, AdamW, amsgrad (with NaN), maximize.
 */
import type { BufferHandle, TensorView } from '../../../runtime/backend.ts';
import type { AdamAttrs } from '../../../runtime/ops.ts';
import type { GpuView } from '../../../runtime/backends/webgpu/program.ts';
import { createReferenceBackend } from '../../../runtime/backends/reference/backend.ts';
import { ADAM_MAX_TABLE_ENTRIES, adamLaunches } from '../../../runtime/backends/webgpu/kernels/adam.ts';
import { toleranceFor } from '../../helpers/tolerance.ts';
import { createHarness, randomFloats, worstViolation } from './matmul-harness.ts';

const h = await createHarness();
const ref = createReferenceBackend();
let failures = 0;
let seed = 500;

/** A named buffer present on both backends with the same contents. */
interface Pair {
  readonly name: string;
  readonly data: Float32Array;
  readonly gpu: GPUBuffer;
  readonly ref: BufferHandle;
}

function pair(name: string, length: number, lo: number, hi: number): Pair {
  const data = randomFloats(length, seed++, lo, hi);
  const r = ref.alloc('float32', length);
  ref.write(r, data);
  return { name, data, gpu: h.upload(data), ref: r };
}

/** One entry's view spec: which pair per role and the offset in it. */
type Spec = readonly (readonly [Pair, number])[];

function hyper(over: Partial<AdamAttrs>, count: number): AdamAttrs {
  const beta1 = over.beta1 ?? 0.9;
  const beta2 = over.beta2 ?? 0.999;
  const lr = over.lr ?? 1e-3;
  const t = 3;
  return {
    lr,
    beta1,
    beta2,
    eps: 1e-8,
    weightDecay: 0,
    amsgrad: false,
    maximize: false,
    decoupled: false,
    stepSize: lr / (1 - beta1 ** t),
    bc2Sqrt: Math.sqrt(1 - beta2 ** t),
    ...over,
    count,
  };
}

async function check(
  name: string,
  specs: readonly Spec[],
  lengths: readonly number[],
  attrs: AdamAttrs,
  expectLaunches: number,
  pairs: readonly Pair[],
): Promise<void> {
  const gpuIn: GpuView[] = [];
  const refIn: TensorView[] = [];
  specs.forEach((spec, e) => {
    const n = lengths[e] as number;
    for (const [p, off] of spec) {
      const shape = n % 2 === 0 && n > 0 ? [2, n / 2] : [n];
      const strides = shape.length === 2 ? [n / 2, 1] : [1];
      gpuIn.push({ buffer: p.gpu, dtype: 'float32', shape, strides, offset: off });
      refIn.push({ buffer: p.ref, dtype: 'float32', shape, strides, offset: off });
    }
  });
  const launches = adamLaunches(h.ctx, gpuIn[0] as GpuView, gpuIn, attrs);
  h.run(launches);
  ref.run('adam', refIn[0] as TensorView, refIn, attrs);
  const tol = toleranceFor('adam', 'float32');
  let ok = launches.length === expectLaunches;
  let detail = ok ? '' : ` (launches ${launches.length}, expected ${expectLaunches})`;
  let changed = 0;
  for (const p of pairs) {
    const got = await h.read(p.gpu, p.data.length);
    const want = ref.readSync(p.ref, 0, p.data.length) as Float32Array;
    want.forEach((x, i) => {
      if (!Object.is(x, p.data[i])) changed++;
    });
    const w = worstViolation(got, want, tol.rtol, tol.atol);
    if (w.excess > 0) {
      ok = false;
      detail += ` ${p.name}[${w.index}] got ${got[w.index]} want ${want[w.index]} (was ${p.data[w.index]})`;
    }
  }
  // The step must have moved something, or the comparison proves nothing.
  if (changed === 0) {
    ok = false;
    detail += ' (the reference changed nothing)';
  }
  if (!ok) failures++;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${name}: ${launches.length} launch(es) ${launches
      .map((l) => l.program.key)
      .filter((k, i, a) => a.indexOf(k) === i)
      .join(',')}${detail}`,
  );
  for (const p of pairs) {
    p.gpu.destroy();
    ref.free(p.ref);
  }
}

const flavours: readonly [string, Partial<AdamAttrs>][] = [
  ['adam', {}],
  ['adam l2', { weightDecay: 0.01 }],
  ['adamw', { decoupled: true, weightDecay: 0.1, lr: 0.01 }],
  ['amsgrad', { amsgrad: true }],
  ['amsgrad maximize l2', { amsgrad: true, maximize: true, weightDecay: 0.05 }],
  ['adamw amsgrad maximize', { amsgrad: true, maximize: true, decoupled: true, weightDecay: 0.02 }],
];

for (const [fname, over] of flavours) {
  const width = over.amsgrad ? 5 : 4;
  const ranges: readonly (readonly [number, number])[] = [
    [-1, 1],
    [-0.5, 0.5],
    [-0.1, 0.1],
    [0, 0.01],
    [0, 0.02],
  ];
  const range = (r: number): readonly [number, number] => ranges[r] as readonly [number, number];

  // Separate buffers per tensor: one launch per non-empty entry.
  {
    const lengths = [5, 0, 300, 17];
    const pairs: Pair[] = [];
    const specs = lengths.map((n, e) =>
      Array.from({ length: width }, (_, r) => {
        const p = pair(`e${e}.${r}`, n + 2, ...range(r));
        pairs.push(p);
        return [p, 2] as const;
      }),
    );
    await check(`${fname}, separate buffers`, specs, lengths, hyper(over, lengths.length), 3, pairs);
  }
  // Packed: one flat buffer per role, entries back to back at odd offsets: one launch.
  {
    const lengths = [7, 1, 0, 129, 64, 33, 1000];
    const total = lengths.reduce((a, b) => a + b, 0) + 3;
    const flat = Array.from({ length: width }, (_, r) => pair(`flat${r}`, total, ...range(r)));
    let off = 3;
    const specs = lengths.map((n) => {
      const s = flat.map((p) => [p, off] as const);
      off += n;
      return s;
    });
    await check(`${fname}, packed flat buffers`, specs, lengths, hyper(over, lengths.length), 1, flat);
  }
  // Param and moments in one buffer (bound once, read_write), grads in another.
  {
    const lengths = [10, 21, 4];
    const n = lengths.reduce((a, b) => a + b, 0);
    const state = pair('state', n * (width - 1), -0.1, 0.1);
    state.data.forEach((_, i) => {
      if (i >= n * 2) {
        state.data[i] = Math.abs(state.data[i] as number) * 0.1;
      }
    });
    ref.write(state.ref, state.data);
    h.device.queue.writeBuffer(state.gpu, 0, state.data.buffer as ArrayBuffer);
    const grads = pair('grads', n, -1, 1);
    let off = 0;
    const specs = lengths.map((len) => {
      const s: (readonly [Pair, number])[] = [
        [state, off],
        [grads, off],
      ];
      for (let r = 2; r < width; r++) s.push([state, (r - 1) * n + off]);
      off += len;
      return s;
    });
    await check(`${fname}, param and moments share a buffer`, specs, lengths, hyper(over, lengths.length), 1, [
      state,
      grads,
    ]);
  }
}

// More entries than one table holds: split into launches of ADAM_MAX_TABLE_ENTRIES.
{
  const count = ADAM_MAX_TABLE_ENTRIES + 300;
  const lengths = Array.from({ length: count }, (_, e) => 1 + (e % 3));
  const total = lengths.reduce((a, b) => a + b, 0);
  const flat = [
    pair('p', total, -1, 1),
    pair('g', total, -1, 1),
    pair('m', total, -0.1, 0.1),
    pair('v', total, 0, 0.01),
  ];
  let off = 0;
  const specs = lengths.map((n) => {
    const s = flat.map((p) => [p, off] as const);
    off += n;
    return s;
  });
  await check(`adam, ${count} packed entries`, specs, lengths, hyper({}, count), 2, flat);
}

// amsgrad propagates a NaN in maxExpAvgSq (torch.maximum).
{
  const n = 8;
  const flat = [
    pair('p', n, -1, 1),
    pair('g', n, -1, 1),
    pair('m', n, -0.1, 0.1),
    pair('v', n, 0, 0.01),
    pair('vmax', n, 0, 0.02),
  ];
  const vmax = flat[4] as Pair;
  vmax.data[3] = NaN;
  ref.write(vmax.ref, vmax.data);
  h.device.queue.writeBuffer(vmax.gpu, 0, vmax.data.buffer as ArrayBuffer);
  await check(
    'amsgrad, NaN in maxExpAvgSq',
    [flat.map((p) => [p, 0] as const)],
    [n],
    hyper({ amsgrad: true }, 1),
    1,
    flat,
  );
}

console.log(failures === 0 ? 'adam-check: all passed' : `adam-check: ${failures} failed`);
h.device.destroy();
if (failures > 0) throw new Error(`adam-check: ${failures} cases failed`);
