/**
 * @module conv-check — the WebGPU `im2col` and `col2im` kernels against the reference
 * backend, run in Deno: `deno run -A test/backends/webgpu/conv-check.ts`. Covers stride,
 * padding, dilation, non-square kernels, a −∞ pad value (max pooling), overlapping windows
 * (col2im sums), windows that skip pixels, input offsets and empty outputs.
 */
import type { OpAttrs } from '../../../runtime/ops.ts';
import { createReferenceBackend } from '../../../runtime/backends/reference/backend.ts';
import { col2imLaunches, im2colLaunches } from '../../../runtime/backends/webgpu/kernels/conv.ts';
import { toleranceFor } from '../../helpers/tolerance.ts';
import { createHarness, randomFloats, referenceView, worstViolation } from './matmul-harness.ts';

const h = await createHarness();
const ref = createReferenceBackend();
let failures = 0;
let seed = 100;

interface Geometry {
  readonly n: number;
  readonly c: number;
  readonly hh: number;
  readonly ww: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly ph: number;
  readonly pw: number;
  readonly dh: number;
  readonly dw: number;
  readonly padValue?: number;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d] as number;
  }
  return s;
}

function report(name: string, got: Float32Array, want: Float32Array, tol: { rtol: number; atol: number }): void {
  const w = worstViolation(got, want, tol.rtol, tol.atol);
  if (got.length > 0 && w.excess > 0) {
    failures++;
    console.log(`FAIL ${name}: element ${w.index} got ${got[w.index]} want ${want[w.index]}`);
  } else {
    console.log(`ok   ${name}`);
  }
}

async function check(g: Geometry): Promise<void> {
  const attrs: OpAttrs['col2im'] = {
    kernelH: g.kh,
    kernelW: g.kw,
    strideH: g.sh,
    strideW: g.sw,
    padH: g.ph,
    padW: g.pw,
    dilationH: g.dh,
    dilationW: g.dw,
  };
  const oh = Math.floor((g.hh + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh) + 1;
  const ow = Math.floor((g.ww + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw) + 1;
  const img = [g.n, g.c, g.hh, g.ww];
  const cols = [g.n, g.c * g.kh * g.kw, Math.max(0, oh), Math.max(0, ow)];
  const imgLen = img.reduce((a, b) => a * b, 1);
  const colLen = cols.reduce((a, b) => a * b, 1);
  const geo = `[${img}] k${g.kh}x${g.kw} s${g.sh}x${g.sw} p${g.ph}x${g.pw} d${g.dh}x${g.dw}`;

  // im2col, input at offset 5.
  const padValue = g.padValue ?? 0;
  const x = randomFloats(5 + imgLen, seed++);
  const xView = { dtype: 'float32' as const, shape: img, strides: strides(img), offset: 5 };
  const cView = { dtype: 'float32' as const, shape: cols, strides: strides(cols), offset: 0 };
  const gx = h.upload(x);
  const gc = h.upload(new Float32Array(colLen).fill(NaN));
  h.run(im2colLaunches(h.ctx, { buffer: gc, ...cView }, [{ buffer: gx, ...xView }], { ...attrs, padValue }));
  const got = await h.read(gc, colLen);
  const rc = referenceView(ref, new Float32Array(colLen), cView);
  ref.run('im2col', rc, [referenceView(ref, x, xView)], { ...attrs, padValue });
  report(
    `im2col ${geo} pad ${padValue}`,
    got,
    ref.readSync(rc.buffer, 0, colLen) as Float32Array,
    toleranceFor('im2col', 'float32'),
  );

  // col2im, columns at offset 3.
  const cdata = randomFloats(3 + colLen, seed++);
  const cView3 = { ...cView, offset: 3 };
  const gcols = h.upload(cdata);
  const gimg = h.upload(new Float32Array(imgLen).fill(NaN));
  const iView = { dtype: 'float32' as const, shape: img, strides: strides(img), offset: 0 };
  h.run(col2imLaunches(h.ctx, { buffer: gimg, ...iView }, [{ buffer: gcols, ...cView3 }], attrs));
  const got2 = await h.read(gimg, imgLen);
  const ri = referenceView(ref, new Float32Array(imgLen), iView);
  ref.run('col2im', ri, [referenceView(ref, cdata, cView3)], attrs);
  report(
    `col2im ${geo}`,
    got2,
    ref.readSync(ri.buffer, 0, imgLen) as Float32Array,
    toleranceFor('col2im', 'float32', { terms: g.kh * g.kw }),
  );
  for (const b of [gx, gc, gcols, gimg]) b.destroy();
}

await check({ n: 2, c: 3, hh: 7, ww: 9, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1 });
await check({ n: 1, c: 2, hh: 11, ww: 8, kh: 3, kw: 2, sh: 2, sw: 3, ph: 1, pw: 0, dh: 1, dw: 1 });
await check({ n: 2, c: 1, hh: 10, ww: 10, kh: 3, kw: 3, sh: 1, sw: 2, ph: 2, pw: 1, dh: 2, dw: 3 });
await check({ n: 1, c: 4, hh: 6, ww: 6, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, dh: 1, dw: 1, padValue: -Infinity });
await check({ n: 1, c: 1, hh: 5, ww: 5, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, padValue: -Infinity });
await check({ n: 1, c: 1, hh: 9, ww: 9, kh: 2, kw: 2, sh: 4, sw: 4, ph: 0, pw: 0, dh: 1, dw: 1 }); // skipped pixels
await check({ n: 3, c: 2, hh: 28, ww: 28, kh: 5, kw: 5, sh: 1, sw: 1, ph: 2, pw: 2, dh: 1, dw: 1 });
await check({ n: 1, c: 1, hh: 1, ww: 1, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1 });
await check({ n: 0, c: 2, hh: 4, ww: 4, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1 });

console.log(failures === 0 ? 'conv-check: all passed' : `conv-check: ${failures} failed`);
h.device.destroy();
if (failures > 0) throw new Error(`conv-check: ${failures} cases failed`);
