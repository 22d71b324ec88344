/**
 * @module tensor/linalg — matmul (1-D, 2-D, batched with broadcasting) and the fused linear.
 */
import type { TensorView } from '../backend.ts';
import { checkDType, promoteTypes } from '../dtype.ts';
import { ShapeError } from '../errors.ts';
import * as ew from './elementwise.ts';
import { broadcastShapes, numelOf, shapeString, viewStrides } from '../shape.ts';
import { Tensor, record, runOp, sameBackend, sumTo } from './tensor.ts';
import { autocastPrecision, castTo16 } from './autocast-mode.ts';
import type { MatmulAttrs } from '../ops.ts';
import { traceOp } from './trace.ts';

const FLOATS = ['float32', 'float64'] as const;

/**
 * The backend view of `t` (shape `[..batch, R, C]`, batch broadcast to `batch`)
 * as a 3-D `[B, R, C]` view whose matrices are row-major or transposed-contiguous,
 * as ops.ts's MatmulAttrs requires. Returns the view and any copy it had to make.
 */
function matrixView(t: Tensor, batch: readonly number[]): { view: TensorView; temp: Tensor | null } {
  const r = t.shape[t.dim() - 2]!;
  const c = t.shape[t.dim() - 1]!;
  const full = [...batch, r, c];
  const expanded = ew.broadcastView('matmul', t, full);
  const sr = expanded.strides[full.length - 2]!;
  const sc = expanded.strides[full.length - 1]!;
  const rowMajor = (c === 1 || sc === 1) && (r === 1 || sr === c);
  const transposed = !rowMajor && (r === 1 || sr === 1) && (c === 1 || sc === r);
  const bStrides =
    batch.length === 0 ? [0] : viewStrides(batch, expanded.strides.slice(0, batch.length), [numelOf(batch)]);
  if ((rowMajor || transposed) && bStrides !== null) {
    const b = numelOf(batch);
    const bs = b <= 1 ? 0 : bStrides[0]!;
    return { view: { ...expanded, shape: [b, r, c], strides: [bs, rowMajor ? c : 1, rowMajor ? 1 : r] }, temp: null };
  }
  const temp = Tensor.empty(t.backend, t.dtype, full);
  t.backend.run('copy', temp.view_(), [expanded], {});
  const b = numelOf(batch);
  return { view: { ...temp.view_(), shape: [b, r, c], strides: [r * c, c, 1] }, temp };
}

/** Matmul of tensors of rank >= 2 with broadcast batch dims, with its gradient. */
function matmulNd(a: Tensor, b: Tensor, attrs: MatmulAttrs = {}): Tensor {
  const m = a.shape[a.dim() - 2]!;
  const k = a.shape[a.dim() - 1]!;
  const n = b.shape[b.dim() - 1]!;
  if (b.shape[b.dim() - 2] !== k) {
    throw new ShapeError(
      `matmul: inner dimensions differ; expected a[-1] == b[-2], got ${shapeString(a.shape)} @ ${shapeString(b.shape)}`,
    );
  }
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const va = matrixView(a, batch);
  const vb = matrixView(b, batch);
  const out = runOp('matmul', a.backend, a.dtype, [numelOf(batch), m, n], [va.view, vb.view], attrs).view([
    ...batch,
    m,
    n,
  ]);
  va.temp?.dispose();
  vb.temp?.dispose();
  return record(out, 'Mm', [a, b], (g) => [
    a.requiresGrad ? sumTo(matmulNd(g, b.transpose(-1, -2), attrs), a.shape) : null,
    b.requiresGrad ? sumTo(matmulNd(a.transpose(-1, -2), g, attrs), b.shape) : null,
  ]);
}

function floatPair(op: string, a: Tensor, b: Tensor): [Tensor, Tensor] {
  sameBackend(op, [a, b]);
  const dtype = promoteTypes(a.dtype, b.dtype);
  checkDType(op, dtype, FLOATS);
  return [ew.cast(a, dtype), ew.cast(b, dtype)];
}

/**
 * Matrix product with torch.matmul's rules: 1-D·1-D is a dot product, a 1-D
 * operand gains and then loses a dim, batch dims broadcast. Inside `autocast` it computes
 * on 16-bit values (see amp/autocast.ts).
 * @example matmul(ones([2, 3]), ones([3, 4])).shape // [2, 4]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return traceOp('matmul', matmulCast(a, b), [a, b]);
}

function matmulCast(a: Tensor, b: Tensor): Tensor {
  [a, b] = floatPair('matmul', a, b);
  const precision = autocastPrecision(a.dtype);
  if (precision !== null) {
    const out = matmulRanked(castTo16(a, precision), castTo16(b, precision), { precision });
    return castTo16(out, precision);
  }
  return matmulRanked(a, b, {});
}

function matmulRanked(a: Tensor, b: Tensor, attrs: MatmulAttrs): Tensor {
  if (a.dim() === 0 || b.dim() === 0) {
    throw new ShapeError(
      `matmul: both arguments need at least 1 dim; expected rank >= 1, got ${shapeString(a.shape)} @ ${shapeString(b.shape)}`,
    );
  }
  const a2 = a.dim() === 1 ? a.unsqueeze(0) : a;
  const b2 = b.dim() === 1 ? b.unsqueeze(1) : b;
  let out = matmulNd(a2, b2, attrs);
  if (b.dim() === 1) out = out.squeeze(-1);
  if (a.dim() === 1) out = out.squeeze(a.dim() === 1 && b.dim() === 1 ? -1 : -2);
  return out;
}

/**
 * x·wᵀ + b in one kernel, with torch.nn.functional.linear's shapes:
 * x `[..., in]`, weight `[out, in]`, bias `[out]`.
 * @example linear(randn([8, 784]), randn([64, 784]), zeros([64])).shape // [8, 64]
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  sameBackend('linear', bias === null ? [x, weight] : [x, weight, bias]);
  if (weight.dim() !== 2) {
    throw new ShapeError(`linear: weight must be 2-D; expected [out, in], got ${shapeString(weight.shape)}`);
  }
  const [nOut, k] = weight.shape as [number, number];
  if (x.dim() === 0 || x.shape[x.dim() - 1] !== k) {
    throw new ShapeError(
      `linear: input features differ from the weight's; expected x[-1] == ${k}, got ${shapeString(x.shape)} with weight ${shapeString(weight.shape)}`,
    );
  }
  if (bias !== null && (bias.dim() !== 1 || bias.shape[0] !== nOut)) {
    throw new ShapeError(`linear: bias must be [out]; expected [${nOut}], got ${shapeString(bias.shape)}`);
  }
  [x, weight] = floatPair('linear', x, weight);
  let b = bias === null ? null : ew.cast(bias.contiguous(), x.dtype);
  // autocast: torch's linear casts input, weight and bias to the 16-bit dtype, returns 16-bit.
  const precision = autocastPrecision(x.dtype);
  const attrs: MatmulAttrs = precision === null ? {} : { precision };
  if (precision !== null) {
    x = castTo16(x, precision);
    weight = castTo16(weight, precision);
    if (b !== null) b = castTo16(b, precision);
  }
  const x2 = x.reshape([-1, k]);
  const m = x2.shape[0]!;
  const va = matrixView(x2, []);
  const vw = matrixView(weight.t(), []);
  const inputs = b === null ? [va.view, vw.view] : [va.view, vw.view, b.view_()];
  const out2 = runOp('matmul', x.backend, x.dtype, [1, m, nOut], inputs, attrs).view([m, nOut]);
  va.temp?.dispose();
  vw.temp?.dispose();
  const parents = b === null ? [x2, weight] : [x2, weight, b];
  const w = weight;
  const bb = b;
  const rec = record(out2, 'Linear', parents, (g) => [
    x2.requiresGrad ? matmulNd(g, w, attrs) : null,
    w.requiresGrad ? matmulNd(g.t(), x2, attrs) : null,
    bb?.requiresGrad ? g.sum(0) : null,
  ]);
  const y = rec.view([...x.shape.slice(0, -1), nOut]);
  return traceOp('linear', precision === null ? y : castTo16(y, precision), [x, weight, b]);
}
