/**
 * @module matmul-check — the WebGPU `matmul` kernel against the reference backend, run in
 * Deno: `deno run -A test/backends/webgpu/matmul-check.ts`. Covers the four transpose
 * layouts, batch stride 0 on either side, bias, odd M/N/K edges (scalar path), aligned
 * shapes (vec4 path), non-zero offsets, K = 0 and every tile configuration. Prints one
 * line per case and exits non-zero on the first failure.
 */
import type { GpuView } from '../../../runtime/backends/webgpu/program.ts';
import type { TensorView } from '../../../runtime/backend.ts';
import { createReferenceBackend } from '../../../runtime/backends/reference/backend.ts';
import { MATMUL_TILE_CONFIGS, matmulLaunches } from '../../../runtime/backends/webgpu/kernels/matmul.ts';
import { toleranceFor } from '../../helpers/tolerance.ts';
import { createHarness, randomFloats, referenceView, worstViolation } from './matmul-harness.ts';

interface Case {
  readonly b: number;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly ta: boolean;
  readonly tb: boolean;
  readonly bcastA?: boolean;
  readonly bcastB?: boolean;
  readonly bias?: boolean;
  readonly offA?: number;
  readonly offB?: number;
  readonly tile?: 'large' | 'medium' | 'small';
  /** Inputs hold f16-exact values and the call passes `precision: 'f16'`. */
  readonly f16?: boolean;
}

const h = await createHarness();
const ref = createReferenceBackend();
let seed = 1;
let failures = 0;

/** A 3-D view of `[batch, rows, cols]` (as the op sees it), stored transposed when `t`. */
function operand(
  batch: number,
  rows: number,
  cols: number,
  t: boolean,
  bcast: boolean,
  offset: number,
  f16: boolean,
): { data: Float32Array; view: Omit<GpuView, 'buffer'> } {
  const stored = bcast ? 1 : batch;
  const data = randomFloats(offset + stored * rows * cols, seed++);
  // Multiples of 1/64 in [-1, 1] are exact in float16.
  if (f16)
    data.forEach((x, i) => {
      data[i] = Math.round(x * 64) / 64;
    });
  const strides = t ? [rows * cols, 1, rows] : [rows * cols, cols, 1];
  if (bcast) strides[0] = 0;
  return { data, view: { dtype: 'float32', shape: [batch, rows, cols], strides, offset } };
}

async function check(c: Case): Promise<void> {
  const a = operand(c.b, c.m, c.k, c.ta, c.bcastA ?? false, c.offA ?? 0, c.f16 ?? false);
  const b = operand(c.b, c.k, c.n, c.tb, c.bcastB ?? false, c.offB ?? 0, c.f16 ?? false);
  const bias = c.bias ? randomFloats(c.n + 3, seed++) : undefined;
  const outLen = c.b * c.m * c.n;
  const outView = { dtype: 'float32' as const, shape: [c.b, c.m, c.n], strides: [c.m * c.n, c.n, 1], offset: 0 };
  const ga = h.upload(a.data);
  const gb = h.upload(b.data);
  const gbias = bias === undefined ? undefined : h.upload(bias);
  const gout = h.upload(new Float32Array(outLen).fill(NaN));
  const biasView = { dtype: 'float32' as const, shape: [c.n], strides: [1], offset: 3 };
  const inputs: GpuView[] = [
    { buffer: ga, ...a.view },
    { buffer: gb, ...b.view },
  ];
  if (gbias !== undefined) inputs.push({ buffer: gbias, ...biasView });
  const attrs = c.f16 ? { precision: 'f16' as const } : {};
  const launches = matmulLaunches(
    h.ctx,
    { buffer: gout, ...outView },
    inputs,
    attrs,
    c.tile === undefined ? {} : { tile: c.tile },
  );
  h.run(launches);
  const got = await h.read(gout, outLen);

  const rin: TensorView[] = [referenceView(ref, a.data, a.view), referenceView(ref, b.data, b.view)];
  if (bias !== undefined) rin.push(referenceView(ref, bias, biasView));
  const rout = referenceView(ref, new Float32Array(outLen), outView);
  ref.run('matmul', rout, rin, attrs);
  const want = ref.readSync(rout.buffer, 0, outLen) as Float32Array;
  const tol = toleranceFor('matmul', 'float32', { terms: Math.max(1, c.k) });
  const w = worstViolation(got, want, tol.rtol, tol.atol);
  const name = `matmul ${c.b}x[${c.m}x${c.k}]${c.ta ? 'ᵀ' : ''}${c.bcastA ? '(b0)' : ''} @ [${c.k}x${c.n}]${c.tb ? 'ᵀ' : ''}${c.bcastB ? '(b0)' : ''}${c.bias ? ' +bias' : ''}${c.offA || c.offB ? ` off ${c.offA ?? 0}/${c.offB ?? 0}` : ''} -> ${launches.map((l) => l.program.key).join(',')}`;
  const ok = launches.length === 0 ? outLen === 0 : w.excess <= 0;
  if (!ok) {
    failures++;
    console.log(`FAIL ${name}: element ${w.index} got ${got[w.index]} want ${want[w.index]}`);
  } else {
    console.log(`ok   ${name}`);
  }
  for (const buf of [ga, gb, gbias, gout]) buf?.destroy();
}

const layouts = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;
for (const tile of MATMUL_TILE_CONFIGS.map((t) => t.name)) {
  for (const [ta, tb] of layouts) {
    await check({ b: 1, m: 67, k: 45, n: 71, ta, tb, tile }); // odd everything: scalar path
    await check({ b: 2, m: 64, k: 32, n: 96, ta, tb, tile, bias: true }); // aligned: vec4 path
    await check({ b: 3, m: 33, k: 20, n: 36, ta, tb, tile, bcastA: true, bias: true });
    await check({ b: 2, m: 40, k: 17, n: 12, ta, tb, tile, bcastB: true });
    await check({ b: 1, m: 36, k: 24, n: 40, ta, tb, tile, offA: 4, offB: 8 }); // aligned offsets (vec4)
    await check({ b: 1, m: 36, k: 24, n: 40, ta, tb, tile, offA: 1, offB: 3 }); // unaligned offsets (scalar)
  }
}
// Shape-picked configs, degenerate sizes, the seed's layers.
await check({ b: 1, m: 1, k: 1, n: 1, ta: false, tb: false });
await check({ b: 1, m: 1, k: 784, n: 64, ta: false, tb: true, bias: true });
await check({ b: 1, m: 5, k: 0, n: 7, ta: false, tb: false, bias: true });
await check({ b: 1, m: 5, k: 0, n: 8, ta: false, tb: false });
await check({ b: 1, m: 0, k: 3, n: 4, ta: false, tb: false });
await check({ b: 1, m: 256, k: 784, n: 64, ta: false, tb: true, bias: true });
await check({ b: 1, m: 64, k: 256, n: 784, ta: true, tb: false });
await check({ b: 1, m: 300, k: 130, n: 520, ta: false, tb: false, bias: true });
await check({ b: 1, m: 1000, k: 64, n: 2100, ta: false, tb: true });
// precision 'f16': f16 workgroup tiles (shader-f16) with f32 products and sums.
if (!h.ctx.f16) console.log('skip f16 cases: the adapter has no shader-f16');
for (const tile of h.ctx.f16 ? MATMUL_TILE_CONFIGS.map((t) => t.name) : []) {
  for (const [ta, tb] of layouts) {
    await check({ b: 2, m: 67, k: 45, n: 71, ta, tb, tile, f16: true, bias: true });
    await check({ b: 1, m: 64, k: 96, n: 32, ta, tb, tile, f16: true });
  }
}

console.log(failures === 0 ? 'matmul-check: all passed' : `matmul-check: ${failures} failed`);
h.device.destroy();
if (failures > 0) throw new Error(`matmul-check: ${failures} cases failed`);
