/**
 * @module webgpu/kernels/adam — the fused multi-tensor Adam/AdamW step (`adam`, runtime/ops.ts's
 * {@link AdamAttrs}): every parameter of a group updated in place, in as few dispatches as
 * the bindings allow.
 *
 * A WGSL stage may bind only a handful of storage buffers (WebGPU's default
 * `maxStorageBuffersPerShaderStage` is 8), so one binding per tensor cannot cover a
 * model's parameters. Instead the entries are grouped by the tuple of GPU buffers that
 * hold their param, grad, expAvg, expAvgSq (and maxExpAvgSq); when the tensor layer packs
 * parameters, gradients and moments into a few flat buffers, every entry shares one tuple
 * and the whole step is ONE dispatch. Each group's dispatch reads an entry table from its
 * uniform block: per entry the element offset of each of its views, the entry's first
 * flat element and its length. Invocation `i` of the group's flat range binary-searches
 * the table for its entry, then updates that entry's element `i − start`. Entries with
 * distinct buffer tuples (separately allocated tensors) get one launch per tuple, so the
 * worst case is one dispatch per parameter, as an unfused loop. A table holds at most
 * {@link ADAM_MAX_TABLE_ENTRIES} entries (32 bytes each in a 64 KiB uniform block); a
 * larger group is split into several launches. A buffer used by several roles of a tuple
 * is bound once (WebGPU forbids binding one buffer twice when one binding writes it).
 *
 * Per element the operations run in ops.ts's order (torch 1.13's `_single_tensor_adam`),
 * each rounded to float32; the scalar factors (1 − lr·wd, 1 − β1, 1 − β2, −stepSize, …)
 * are formed in float64 here and passed as float32, as the reference does. WGSL does not
 * forbid contracting a multiply and an add into an FMA, nor does it require a correctly
 * rounded division or sqrt, so results may differ from the reference in the last bits;
 * the `adam` tolerance covers one step. `max` for amsgrad propagates NaN through a
 * bit-pattern test, as torch.maximum does.
 */
import type { AdamAttrs } from '../../../ops.ts';
import { DTypeError, ShapeError, ValueError } from '../../../errors.ts';
import { WG, dispatch1D, fmt, isContiguous, numel } from './common.ts';
import type { GpuView, KernelContext, Launch, Program } from '../program.ts';

/** The most entries one launch's uniform table holds. */
export const ADAM_MAX_TABLE_ENTRIES = 1024;

/** Words of the uniform header before the table (three vec4s). */
const HEADER_WORDS = 12;

const ROLES = ['param', 'grad', 'expAvg', 'expAvgSq', 'maxExpAvgSq'] as const;

/** The variant of the update baked into a program. */
interface Flavour {
  readonly amsgrad: boolean;
  readonly maximize: boolean;
  readonly decoupled: boolean;
  /** Adam's L2 term is applied (weightDecay ≠ 0 and not decoupled). */
  readonly l2: boolean;
}

/**
 * The WGSL of one variant. `binding[r]` is the binding slot (0-based among the storage
 * buffers) of role r; `writable[s]` whether slot s is read_write.
 */
function adamSource(f: Flavour, cap: number, binding: readonly number[], writable: readonly boolean[]): string {
  const decl = writable
    .map((w, s) => `@group(0) @binding(${s + 1}) var<storage, ${w ? 'read_write' : 'read'}> B${s}: array<f32>;`)
    .join('\n');
  const buf = (role: number): string => `B${binding[role] as number}`;
  return `struct U {
  decay: f32, wd: f32, b1: f32, c1: f32,
  b2: f32, c2: f32, negStep: f32, bc2: f32,
  eps: f32, total: u32, count: u32, _p0: u32,
  // per entry: (param, grad, expAvg, expAvgSq) offsets, then (maxExpAvgSq offset, start, length, 0)
  table: array<vec4<u32>, ${2 * cap}>,
}
@group(0) @binding(0) var<uniform> u: U;
${decl}

fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// ops.ts's AdamAttrs: a subnormal m or v is stored as a zero of its sign (by its bits, since
// a GPU may flush subnormals in arithmetic anyway)
fn flushSub(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7f800000u) == 0u) { return bitcast<f32>(b & 0x80000000u); }
  return x;
}

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let flat = (wid.y * nwg.x + wid.x) * ${WG}u + lid;
  if (flat >= u.total) { return; }
  // The last entry whose start <= flat (starts increase; no entry is empty).
  var lo = 0u;
  var hi = u.count - 1u;
  while (lo < hi) {
    let mid = (lo + hi + 1u) / 2u;
    if (u.table[2u * mid + 1u].y <= flat) { lo = mid; } else { hi = mid - 1u; }
  }
  let offs = u.table[2u * lo];
  let more = u.table[2u * lo + 1u];
  let i = flat - more.y;
  var g = ${buf(1)}[offs.y + i];
  var p = ${buf(0)}[offs.x + i];
${f.maximize ? '  g = -g;\n' : ''}${f.decoupled ? '  p = p * u.decay;\n' : ''}${f.l2 ? '  g = g + u.wd * p;\n' : ''}  let m = flushSub(${buf(2)}[offs.z + i] * u.b1 + g * u.c1);
  let v = flushSub(${buf(3)}[offs.w + i] * u.b2 + (g * u.c2) * g);
${
  f.amsgrad
    ? `  let prev = ${buf(4)}[more.x + i];
  // NaN-propagating max; the NaN comes from an operand (WGSL rejects a constant NaN).
  var second = max(prev, v);
  if (isNan(v)) { second = v; }
  if (isNan(prev)) { second = prev; }
  ${buf(4)}[more.x + i] = second;
`
    : '  let second = v;\n'
}  let denom = sqrt(second) / u.bc2 + u.eps;
  ${buf(2)}[offs.z + i] = m;
  ${buf(3)}[offs.w + i] = v;
  ${buf(0)}[offs.x + i] = p + (u.negStep * m) / denom;
}`;
}

const programCache = new Map<string, Program>();

function program(f: Flavour, cap: number, binding: readonly number[], writable: readonly boolean[]): Program {
  const key =
    `adam_f32_e${cap}_r${binding.join('')}_w${writable.map((w) => (w ? 1 : 0)).join('')}` +
    `${f.amsgrad ? '_ams' : ''}${f.maximize ? '_max' : ''}${f.decoupled ? '_dec' : ''}${f.l2 ? '_l2' : ''}`;
  let p = programCache.get(key);
  if (p === undefined) {
    p = { key, source: () => adamSource(f, cap, binding, writable), workgroupSize: [WG, 1, 1] };
    programCache.set(key, p);
  }
  return p;
}

/**
 * The launches of one `adam` call (IN PLACE; runtime/ops.ts's AdamAttrs): one launch per
 * distinct tuple of buffers among the entries (one in all when the tensor layer packs
 * parameters, gradients and moments into flat buffers), split further only past
 * {@link ADAM_MAX_TABLE_ENTRIES} entries.
 *
 * @example
 * // two parameters packed into one flat buffer each for p, g, m, v → one launch
 * adamLaunches(ctx, p0, [p0, g0, m0, v0, p1, g1, m1, v1], { lr: 1e-3, beta1: 0.9,
 *   beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false,
 *   decoupled: false, stepSize: 1e-2, bc2Sqrt: 0.0447, count: 2 }).length // 1
 */
export function adamLaunches(ctx: KernelContext, out: GpuView, inputs: readonly GpuView[], a: AdamAttrs): Launch[] {
  const op = 'adam';
  if (!Number.isInteger(a.count) || a.count < 1) {
    throw new ValueError(
      `${op}: attribute count must be a positive integer; expected count >= 1, got ${String(a.count)}`,
    );
  }
  for (const k of ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'stepSize', 'bc2Sqrt'] as const) {
    if (typeof a[k] !== 'number')
      throw new ValueError(`${op}: attribute ${k} is missing; expected a number, got ${String(a[k])}`);
  }
  const width = a.amsgrad ? 5 : 4;
  if (inputs.length !== a.count * width) {
    throw new ValueError(
      `${op}: wrong number of inputs; expected ${a.count * width} (count ${a.count} × ${width}), got ${inputs.length}`,
    );
  }
  const p0 = inputs[0] as GpuView;
  if (out.buffer !== p0.buffer || out.offset !== p0.offset || numel(out.shape) !== numel(p0.shape)) {
    throw new ShapeError(
      `${op}: out must be the first param itself; expected its buffer at offset ${p0.offset} with ${numel(p0.shape)} elements, got offset ${out.offset} with ${numel(out.shape)}${out.buffer === p0.buffer ? '' : ' in another buffer'}`,
    );
  }

  // Group the non-empty entries by their buffer tuple.
  const ids = new Map<GPUBuffer, number>();
  const groups = new Map<string, { buffers: GPUBuffer[]; entries: GpuView[][] }>();
  for (let e = 0; e < a.count; e++) {
    const entry = inputs.slice(e * width, (e + 1) * width);
    const n = numel((entry[0] as GpuView).shape);
    entry.forEach((v, r) => {
      const role = `entry ${e} ${ROLES[r] ?? 'input'}`;
      if (v.dtype !== 'float32')
        throw new DTypeError(`${op}: ${role} has a dtype WebGPU lacks for this op; expected float32, got ${v.dtype}`);
      if (numel(v.shape) !== n)
        throw new ShapeError(
          `${op}: ${role} has the wrong numel; expected ${n} (its param's), got ${numel(v.shape)} (shape ${fmt(v.shape)})`,
        );
      if (!isContiguous(v))
        throw new ShapeError(
          `${op}: ${role} must be contiguous; expected row-major strides, got ${fmt(v.strides)} for shape ${fmt(v.shape)}`,
        );
    });
    if (n === 0) continue;
    const buffers = entry.map((v) => v.buffer);
    const key = buffers
      .map((b) => {
        let id = ids.get(b);
        if (id === undefined) {
          id = ids.size;
          ids.set(b, id);
        }
        return id;
      })
      .join(',');
    let g = groups.get(key);
    if (g === undefined) {
      g = { buffers, entries: [] };
      groups.set(key, g);
    }
    g.entries.push(entry);
  }

  // Each scalar factor formed in float64, then taken at float32 (ops.ts).
  const flavour: Flavour = {
    amsgrad: a.amsgrad,
    maximize: a.maximize,
    decoupled: a.decoupled,
    l2: !a.decoupled && a.weightDecay !== 0,
  };
  const scalars = [
    1 - a.lr * a.weightDecay,
    a.weightDecay,
    a.beta1,
    1 - a.beta1,
    a.beta2,
    1 - a.beta2,
    -a.stepSize,
    a.bc2Sqrt,
    a.eps,
  ];
  const maxUniformEntries = Math.floor((ctx.limits.maxUniformBufferBindingSize - HEADER_WORDS * 4) / 32);
  const perLaunch = Math.max(1, Math.min(ADAM_MAX_TABLE_ENTRIES, maxUniformEntries));

  const launches: Launch[] = [];
  for (const { buffers, entries } of groups.values()) {
    // Bind each distinct buffer once; it is read_write unless only the grad role uses it.
    const slots: GPUBuffer[] = [];
    const binding = buffers.map((b) => {
      const s = slots.indexOf(b);
      if (s >= 0) return s;
      slots.push(b);
      return slots.length - 1;
    });
    const writable = slots.map((_, s) => binding.some((slot, r) => slot === s && r !== 1));
    for (let start = 0; start < entries.length; start += perLaunch) {
      const chunk = entries.slice(start, start + perLaunch);
      let cap = 4;
      while (cap < chunk.length) cap *= 2;
      const words = new Uint32Array(HEADER_WORDS + 8 * cap);
      new Float32Array(words.buffer, 0, scalars.length).set(scalars);
      let total = 0;
      chunk.forEach((entry, e) => {
        const base = HEADER_WORDS + 8 * e;
        for (let r = 0; r < 4; r++) words[base + r] = (entry[r] as GpuView).offset;
        words[base + 4] = a.amsgrad ? (entry[4] as GpuView).offset : 0;
        words[base + 5] = total;
        const n = numel((entry[0] as GpuView).shape);
        words[base + 6] = n;
        total += n;
      });
      if (total >= 2 ** 32) {
        throw new ShapeError(`${op}: too many elements for one launch; expected fewer than 2^32, got ${total}`);
      }
      words[9] = total;
      words[10] = chunk.length;
      launches.push({
        program: program(flavour, cap, binding, writable),
        buffers: slots.map((b, s) => ({ buffer: b, readOnly: !(writable[s] ?? true) })),
        uniforms: words,
        workgroups: dispatch1D(total, ctx.limits.maxComputeWorkgroupsPerDimension),
      });
    }
  }
  return launches;
}
