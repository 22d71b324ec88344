/**
 * @module webgpu/subgroup-check — the subgroup kernels on a device that has `subgroups`,
 * beyond what the parity suite reaches: the matmul subgroup kernel forced onto every layout
 * at M past its shape rule (odd edges, batch stride 0, offsets, bias) against a float64
 * product and beside the tiled kernel; and the `…_tree_sg` reductions on long axes full of
 * NaNs, ties and signed zeros, against the sequential definition of ops.ts (max/min/argmax/
 * argmin bit for bit) and run twice (the sum bit for bit the same).
 *
 * Run: `npm run build:ts && VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node dist/test/runtimes/webgpu/subgroup-check.js`.
 * Prints `ok <case>` or `FAIL <case>: <why>` per case, then `subgroup-check: N cases, all
 * passed` (exit 0) or `subgroup-check: F of N failed` (exit 1). A device without subgroups
 * is an error (exit 1): this check exists to exercise them.
 */
import * as lib from '../../../bindings/node.ts';
import type { GpuView } from '../../../runtime/backends/webgpu/program.ts';
import { matmulLaunches } from '../../../runtime/backends/webgpu/kernels/matmul.ts';
import type { ReduceOp } from '../../../runtime/ops.ts';

const { backend: be } = await lib.requestWebGPUBackend({ allowFallbackAdapter: true });
if (!be.features.subgroups) {
  console.log('subgroup-check: the device has no subgroups; expected a device with the subgroups feature, got none');
  process.exit(1);
}

let cases = 0;
const failures: string[] = [];
function report(name: string, problem: string | undefined): void {
  cases++;
  if (problem === undefined) console.log(`ok ${name}`);
  else {
    failures.push(name);
    console.log(`FAIL ${name}: ${problem}`);
  }
}

/** Deterministic values in [-1, 1) (a 32-bit LCG). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

// ---- matmul: the subgroup kernel forced, every layout, against float64 and the tiled kernel.
{
  const shapes: [number, number, number, number][] = [
    [1, 1, 1, 1],
    [1, 4, 5, 3],
    [3, 5, 7, 9],
    [1, 67, 45, 71],
    [2, 3, 200, 130],
    [1, 2, 1, 300],
  ];
  for (const [batch, m, k, n] of shapes) {
    for (const [ta, tb] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      for (const bias of [false, true]) {
        // A shared across the batch (stride 0) when batch > 1; every operand at an odd offset.
        const aOff = 3;
        const bOff = 1;
        const biasOff = 2;
        const outOff = 1;
        const aN = m * k;
        const bN = batch * k * n;
        const av = values(aOff + aN, m * 31 + k);
        const bv = values(bOff + bN, n * 17 + k);
        const cv = values(biasOff + n, n);
        const aAt = (i: number, p: number): number => av[aOff + (ta ? p * m + i : i * k + p)] as number;
        const bAt = (bi: number, p: number, j: number): number =>
          bv[bOff + bi * k * n + (tb ? j * k + p : p * n + j)] as number;
        const ah = be.alloc('float32', av.length);
        be.write(ah, av);
        const bh = be.alloc('float32', bv.length);
        be.write(bh, bv);
        const ch = be.alloc('float32', cv.length);
        be.write(ch, cv);
        const outs = [
          be.alloc('float32', outOff + batch * m * n),
          be.alloc('float32', outOff + batch * m * n),
        ] as const;
        const aView: GpuView = {
          buffer: be.gpuBuffer(ah),
          dtype: 'float32',
          shape: [batch, m, k],
          strides: [0, ta ? 1 : k, ta ? m : 1],
          offset: aOff,
        };
        const bView: GpuView = {
          buffer: be.gpuBuffer(bh),
          dtype: 'float32',
          shape: [batch, k, n],
          strides: [k * n, tb ? 1 : n, tb ? k : 1],
          offset: bOff,
        };
        const biasView: GpuView = {
          buffer: be.gpuBuffer(ch),
          dtype: 'float32',
          shape: [n],
          strides: [1],
          offset: biasOff,
        };
        const got: Float32Array[] = [];
        for (const [i, kernel] of (['subgroup', 'tiled'] as const).entries()) {
          const o = outs[i] as (typeof outs)[0];
          const oView: GpuView = {
            buffer: be.gpuBuffer(o),
            dtype: 'float32',
            shape: [batch, m, n],
            strides: [m * n, n, 1],
            offset: outOff,
          };
          be.launch(
            matmulLaunches(be.kernelContext, oView, bias ? [aView, bView, biasView] : [aView, bView], {}, { kernel }),
          );
          got.push((await be.read(o, outOff, batch * m * n)) as Float32Array);
        }
        const [sg, tiled] = got as [Float32Array, Float32Array];
        let problem: string | undefined;
        for (let bi = 0; bi < batch && problem === undefined; bi++) {
          for (let i = 0; i < m && problem === undefined; i++) {
            for (let j = 0; j < n; j++) {
              let want = bias ? (cv[biasOff + j] as number) : 0;
              for (let p = 0; p < k; p++) want += aAt(i, p) * bAt(bi, p, j);
              const at = (bi * m + i) * n + j;
              const g = sg[at] as number;
              // ops.ts's matmul tolerance: a few ulps per term of the K-long sum.
              if (!(Math.abs(g - want) <= 1e-6 * (k + 1) + 1e-6 * Math.abs(want))) {
                problem = `[${bi},${i},${j}] expected ${want}, got ${g} (tiled ${tiled[at]})`;
                break;
              }
            }
          }
        }
        report(
          `matmul subgroup kernel ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} batch ${batch} ${m}x${k}@${k}x${n}${bias ? ' bias' : ''} (A batch stride 0, odd offsets)`,
          problem,
        );
        for (const h of [ah, bh, ch, ...outs]) be.free(h);
      }
    }
  }
}

// ---- reduce: the `_tree_sg` programs against the sequential definition, and run to run.
{
  /** The sequential answer of ops.ts over `xs` (first NaN wins; ties keep the first index). */
  const sequential = (op: ReduceOp, xs: ArrayLike<number>): number => {
    let best = xs[0] as number;
    let bk = 0;
    for (let k = 1; k < xs.length; k++) {
      if (Number.isNaN(best)) break;
      const v = xs[k] as number;
      const take = op === 'max' || op === 'argmax' ? v > best : v < best;
      if (Number.isNaN(v) || take) {
        best = v;
        bk = k;
      }
    }
    return op === 'argmax' || op === 'argmin' ? bk : best;
  };
  const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
  for (const dtype of ['float32', 'int32'] as const) {
    for (const [outer, r] of [
      [1, 513],
      [3, 1000],
      [2, 4099],
      [5, 777],
    ] as const) {
      for (const kind of ['ties', 'nan', 'random'] as const) {
        if (dtype === 'int32' && kind === 'nan') continue;
        const n = outer * r;
        const raw = values(n, r * 7 + outer + kind.length);
        const data = dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
        for (let i = 0; i < n; i++) {
          const x = raw[i] as number;
          // ties: a few distinct values (and -0/0 for floats); nan: NaNs sprinkled late in each row.
          data[i] =
            kind === 'ties'
              ? ([-1, 0, dtype === 'float32' ? -0 : 0, 1, 2][Math.floor((x + 1) * 2.5)] as number)
              : dtype === 'int32'
                ? Math.round(x * 1000)
                : x;
        }
        if (kind === 'nan')
          for (let o = 0; o < outer; o++)
            for (const at of [r - 1, Math.floor(r / 2) + o, r - 300]) data[o * r + at] = NaN;
        const xh = be.alloc(dtype, n);
        be.write(xh, data);
        for (const op of ['sum', 'max', 'min', 'argmax', 'argmin'] as const) {
          const isArg = op === 'argmax' || op === 'argmin';
          const outDType = isArg ? 'int32' : dtype;
          const runs: (Float32Array | Int32Array)[] = [];
          for (let t = 0; t < 2; t++) {
            const oh = be.alloc(outDType, outer);
            be.run(
              op,
              { buffer: oh, dtype: outDType, shape: [outer, 1], strides: [1, 1], offset: 0 },
              [{ buffer: xh, dtype, shape: [outer, r], strides: [r, 1], offset: 0 }],
              { axis: 1 },
            );
            runs.push((await be.read(oh, 0, outer)) as Float32Array | Int32Array);
            be.free(oh);
          }
          const [first, second] = runs as [Float32Array | Int32Array, Float32Array | Int32Array];
          let problem: string | undefined;
          for (let o = 0; o < outer && problem === undefined; o++) {
            const row = data.subarray(o * r, (o + 1) * r);
            const g = first[o] as number;
            if (!same(g, second[o] as number)) problem = `row ${o}: two runs differ, ${g} then ${second[o]}`;
            else if (op === 'sum') {
              let want = 0;
              for (let k = 0; k < r; k++) want += row[k] as number;
              if (dtype === 'int32') want = want | 0;
              const ok =
                dtype === 'int32' ? g === want : Number.isNaN(want) ? Number.isNaN(g) : Math.abs(g - want) <= 1e-6 * r;
              if (!ok) problem = `row ${o}: expected ${want}, got ${g}`;
            } else {
              const want = sequential(op, row);
              if (!same(g, want)) problem = `row ${o}: expected ${want}, got ${g}`;
            }
          }
          report(`${op} ${dtype} [${outer},${r}] axis 1 ${kind}`, problem);
        }
        be.free(xh);
      }
    }
  }
}

const programs = be.stats().programs;
const sgPrograms = programs.filter((p) => p.includes('_sg'));
report(
  'the subgroup programs ran',
  sgPrograms.length >= 11
    ? undefined
    : `expected matmul_f32_sg_* and the 10 …_tree_sg reductions, got ${sgPrograms.join(', ')}`,
);
console.log(`subgroup programs: ${sgPrograms.join(', ')}`);
be.dispose();
console.log(
  failures.length === 0
    ? `subgroup-check: ${cases} cases, all passed`
    : `subgroup-check: ${failures.length} of ${cases} failed`,
);
process.exit(failures.length === 0 ? 0 : 1);
