/**
 * @module wasm.test — the wasm backend: allocator, errors, variant selection, and
 * each kernel against straightforward float64 expectations (odd lengths for the
 * SIMD tails, stride-0 broadcasts, non-contiguous views, zero-size tensors).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it, expect, beforeAll } from 'vitest';
import type { BufferHandle, TensorView } from '../../runtime/backend.ts';
import type { DType, StorageArray } from '../../runtime/dtype.ts';
import { DisposedError, DTypeError, IndexError, NotImplementedOpError } from '../../runtime/errors.ts';
import type { Activation, ActivationAttrs } from '../../runtime/ops.ts';
import { createWasmBackend, type WasmBackend } from '../../runtime/backends/wasm/backend.ts';
import { relaxedProbe, selectKernelVariant, supportsRelaxedSimd } from '../../runtime/backends/wasm/variant.ts';
import { sizeClass, WasmAllocator } from '../../runtime/backends/wasm/allocator.ts';

const simdBytes = readFileSync(new URL('../../build/kernels-simd.wasm', import.meta.url));
const relaxedBytes = readFileSync(new URL('../../build/kernels-relaxed.wasm', import.meta.url));

let be: WasmBackend;
beforeAll(async () => {
  be = await createWasmBackend({ bytes: simdBytes, variant: 'simd' });
});

const ACT: ActivationAttrs = { alpha: 0.1, beta: 1.5, threshold: 20 };

function strides(shape: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i] as number;
  }
  return s;
}
function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
function arrayOf(dtype: DType, data: readonly number[]): StorageArray {
  return dtype === 'float32'
    ? Float32Array.from(data)
    : dtype === 'int32'
      ? Int32Array.from(data)
      : Uint8Array.from(data);
}
/** A contiguous tensor holding `data`. */
function tensor(dtype: DType, shape: readonly number[], data: readonly number[]): TensorView {
  const buffer = be.alloc(dtype, numel(shape));
  be.write(buffer, arrayOf(dtype, data));
  return { buffer, dtype, shape, strides: strides(shape), offset: 0 };
}
function empty(dtype: DType, shape: readonly number[]): TensorView {
  return { buffer: be.alloc(dtype, numel(shape)), dtype, shape, strides: strides(shape), offset: 0 };
}
function values(v: TensorView): number[] {
  return Array.from(be.readSync(v.buffer, v.offset, numel(v.shape)));
}
/** Deterministic pseudo-random values in [lo, hi). */
function rand(n: number, lo = -3, hi = 3, seed = 1): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(Math.fround(lo + (hi - lo) * (s / 2 ** 32)));
  }
  return out;
}
function expectClose(got: readonly number[], want: readonly number[], rtol = 2e-6, atol = 1e-7): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const g = got[i] as number,
      w = want[i] as number;
    if (Number.isNaN(w)) {
      expect(g, `index ${i}`).toBeNaN();
      continue;
    }
    if (!Number.isFinite(w)) {
      expect(g, `index ${i}`).toBe(w);
      continue;
    }
    expect(Math.abs(g - w), `index ${i}: got ${g}, want ${w}`).toBeLessThanOrEqual(atol + rtol * Math.abs(w));
  }
}

/** erfc in float64: a Taylor series for |x| < 3, a continued fraction beyond. */
const erfc = (x: number): number => {
  const t = Math.abs(x);
  let r: number;
  if (t < 3) {
    let sum = t,
      term = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    r = 1 - (sum * 2) / Math.sqrt(Math.PI);
  } else {
    let f = 0;
    for (let n = 80; n >= 1; n--) f = n / 2 / (t + f);
    r = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  }
  return x < 0 ? 2 - r : r;
};
const phi = (x: number): number => 0.5 * erfc(-x / Math.SQRT2);
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const K = Math.sqrt(2 / Math.PI);

const UNARY_REF: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => Number(0 < x) - Number(x < 0),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  relu: (x) => (Number.isNaN(x) ? NaN : Math.max(x, 0)),
  sigmoid,
  tanh: Math.tanh,
  gelu: (x) => x * phi(x),
  gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(K * (x + 0.044715 * x ** 3))),
  silu: (x) => x * sigmoid(x),
  softplus: (x) => (x * ACT.beta > ACT.threshold ? x : Math.log1p(Math.exp(ACT.beta * x)) / ACT.beta),
  elu: (x) => (x > 0 ? x : ACT.alpha * Math.expm1(x)),
  leaky_relu: (x) => (x > 0 ? x : ACT.alpha * x),
};
const DERIV: Record<Activation, (x: number) => number> = {
  relu: (x) => (x <= 0 ? 0 : 1),
  sigmoid: (x) => sigmoid(x) * (1 - sigmoid(x)),
  tanh: (x) => 1 - Math.tanh(x) ** 2,
  gelu: (x) => phi(x) + (x * Math.exp((-x * x) / 2)) / Math.sqrt(2 * Math.PI),
  gelu_tanh: (x) => {
    const t = Math.tanh(K * (x + 0.044715 * x ** 3));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * K * (1 + 3 * 0.044715 * x * x);
  },
  silu: (x) => sigmoid(x) * (1 + x * (1 - sigmoid(x))),
  softplus: (x) => (x * ACT.beta > ACT.threshold ? 1 : sigmoid(ACT.beta * x)),
  elu: (x) => (x <= 0 ? ACT.alpha * Math.exp(x) : 1),
  leaky_relu: (x) => (x > 0 ? 1 : ACT.alpha),
};

describe('wasm: buffers and allocator', () => {
  it('wasm: alloc is zero-filled and write/read round-trip', async () => {
    const b = be.alloc('float32', 7);
    expect(Array.from(be.readSync(b, 0, 7))).toEqual([0, 0, 0, 0, 0, 0, 0]);
    be.write(b, new Float32Array([1, 2, 3]), 2);
    expect(Array.from(await be.read(b, 1, 4))).toEqual([0, 1, 2, 3]);
    be.free(b);
  });

  it('wasm: freed blocks are reused and zeroed again', () => {
    const before = be.memory();
    for (let i = 0; i < 2000; i++) {
      const b = be.alloc('float32', 4096);
      be.write(b, new Float32Array([i + 1]), 0);
      expect(be.readSync(b, 0, 1)[0]).toBe(i + 1);
      be.free(b);
      const c = be.alloc('float32', 4096);
      expect(be.readSync(c, 0, 1)[0]).toBe(0);
      be.free(c);
    }
    expect(be.memory().liveBuffers).toBe(before.liveBuffers);
    expect(be.memory().reservedBytes).toBeLessThanOrEqual(before.reservedBytes + 65536 * 4);
  });

  it('wasm: coalesces free blocks of mixed sizes before growing', () => {
    const bufs: BufferHandle[] = [];
    let total = 0;
    for (let i = 0; i < 64; i++) {
      bufs.push(be.alloc('float32', 1000 + i * 37));
      total += 1000 + i * 37;
    }
    for (const b of bufs) be.free(b);
    const reserved = be.memory().reservedBytes;
    // One block larger than any freed one fits only in the merged space.
    const big = be.alloc('float32', Math.floor(total * 0.9));
    expect(be.memory().reservedBytes).toBe(reserved);
    be.free(big);
    for (let round = 0; round < 20; round++) {
      const live = rand(16, 100, 2000, round + 7).map((v) => be.alloc('int32', Math.floor(v)));
      for (const b of live) be.free(b);
    }
    expect(be.memory().reservedBytes).toBe(reserved);
  });

  it('wasm: buffers survive memory growth, and kernels still run on them', () => {
    const x = tensor('float32', [5], [1, -2, 3, -4, 5]);
    const reserved = be.memory().reservedBytes;
    const big = be.alloc('float32', 8 * 1024 * 1024);
    expect(be.memory().reservedBytes).toBeGreaterThan(reserved);
    expect(values(x)).toEqual([1, -2, 3, -4, 5]);
    const out = empty('float32', [5]);
    be.run('relu', out, [x], {});
    expect(values(out)).toEqual([1, 0, 3, 0, 5]);
    be.write(big, new Float32Array([42]), 8 * 1024 * 1024 - 1);
    expect(be.readSync(big, 8 * 1024 * 1024 - 1, 1)[0]).toBe(42);
    for (const b of [x.buffer, big, out.buffer]) be.free(b);
  });

  it('wasm: double free and use after free throw DisposedError', () => {
    const b = be.alloc('int32', 3);
    be.free(b);
    expect(() => be.free(b)).toThrow(DisposedError);
    expect(() => be.readSync(b, 0, 1)).toThrow(DisposedError);
    expect(() => be.write(b, new Int32Array([1]))).toThrow(DisposedError);
    const out = empty('int32', [3]);
    expect(() => be.run('neg', out, [{ buffer: b, dtype: 'int32', shape: [3], strides: [1], offset: 0 }], {})).toThrow(
      DisposedError,
    );
    be.free(out.buffer);
  });

  it('wasm: float64 is rejected with a DTypeError; missing op/dtype pairs with NotImplementedOpError', () => {
    expect(() => be.alloc('float64', 3)).toThrow(DTypeError);
    const a = tensor('int32', [1, 2, 2], [1, 2, 3, 4]);
    const out = empty('int32', [1, 2, 2]);
    expect(() => be.run('matmul', out, [a, a], {})).toThrow(NotImplementedOpError);
    expect(() => be.run('matmul', out, [a, a], {})).toThrow(
      "wasm: op 'matmul' is not implemented for int32; expected one of float32, got int32",
    );
    expect(() => be.run('exp', out, [a], {})).toThrow(NotImplementedOpError);
    be.free(a.buffer);
    be.free(out.buffer);
  });

  it('wasm: a disposed backend rejects further use', async () => {
    const other = await createWasmBackend({ bytes: simdBytes, variant: 'simd' });
    const b = other.alloc('float32', 4);
    expect(() => be.free(b)).toThrow(/foreign buffer/);
    other.dispose();
    expect(other.memory().liveBuffers).toBe(0);
    expect(() => other.readSync(b, 0, 1)).toThrow(DisposedError);
    expect(() => other.alloc('float32', 1)).toThrow(DisposedError);
  });

  it('wasm: capabilities and memory() report the live state', () => {
    expect(be.name).toBe('wasm');
    expect(be.capabilities.dtypes).toEqual(['float32', 'int32', 'bool']);
    const n = be.memory().liveBuffers;
    const b = be.alloc('bool', 5);
    expect(be.memory().liveBuffers).toBe(n + 1);
    be.free(b);
    expect(be.memory().liveBuffers).toBe(n);
  });
});

describe('wasm-allocator', () => {
  it('wasm-allocator: size classes are 16-byte multiples within 12.5% of the request', () => {
    for (const n of [0, 1, 15, 16, 17, 1000, 1024, 1025, 5000, 123457, 1 << 20]) {
      const c = sizeClass(n);
      expect(c % 16).toBe(0);
      expect(c).toBeGreaterThanOrEqual(Math.max(n, 16));
      expect(c).toBeLessThanOrEqual(Math.max(16, n * 1.125 + 16));
    }
  });

  it('wasm-allocator: reuses exact-size blocks, aligns to 16, and grows only when full', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    let grows = 0;
    const a = new WasmAllocator(memory, 100, () => {
      grows++;
    });
    const p1 = a.alloc(40);
    expect(p1 % 16).toBe(0);
    expect(p1).toBeGreaterThanOrEqual(100);
    a.free(p1, 40);
    expect(a.alloc(33)).toBe(p1);
    const big = a.alloc(200_000);
    expect(grows).toBe(1);
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(big + 200_000);
  });

  it('wasm-allocator: merges neighbours and lowers the bump pointer before growing', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    let grows = 0;
    const a = new WasmAllocator(memory, 0, () => {
      grows++;
    });
    const ptrs = [a.alloc(10_000), a.alloc(20_000), a.alloc(30_000)];
    expect(grows).toBe(0);
    for (const [i, p] of ptrs.entries()) a.free(p as number, [10_000, 20_000, 30_000][i] as number);
    const top = a.highWater;
    const merged = a.alloc(60_000);
    expect(grows).toBe(0);
    expect(merged).toBe(ptrs[0]);
    expect(a.highWater).toBeLessThanOrEqual(top);
  });
});

describe('wasm: kernel variant', () => {
  it('wasm: deterministic mode always picks simd', () => {
    expect(selectKernelVariant({ deterministic: true })).toBe('simd');
  });

  it('wasm: non-deterministic mode picks relaxed exactly when the engine validates relaxed SIMD', () => {
    const expected = WebAssembly.validate(relaxedBytes) ? 'relaxed' : 'simd';
    expect(supportsRelaxedSimd()).toBe(WebAssembly.validate(relaxedBytes));
    expect(selectKernelVariant({ deterministic: false })).toBe(expected);
  });

  it('wasm: the relaxed probe validates only behind the flag on Node 20', () => {
    const probe = `process.stdout.write(String(WebAssembly.validate(new Uint8Array([${Array.from(relaxedProbe()).join(',')}]))))`;
    const withFlag = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', probe]).toString();
    expect(withFlag).toBe('true');
    if (process.versions.node.startsWith('20.')) {
      expect(execFileSync(process.execPath, ['-e', probe]).toString()).toBe('false');
    }
  });

  it('wasm: the relaxed build (run with the flag in a child process) agrees with simd on matmul and exp', () => {
    const script = `
      import { existsSync, readFileSync } from 'node:fs';
      const load = async (f) => (await WebAssembly.instantiate(readFileSync(f), {})).instance.exports;
      const s = await load(${JSON.stringify(new URL('../../build/kernels-simd.wasm', import.meta.url).pathname)});
      const r = await load(${JSON.stringify(new URL('../../build/kernels-relaxed.wasm', import.meta.url).pathname)});
      const M = 37, K = 300, N = 45;
      const res = [];
      for (const e of [s, r]) {
        e.memory.grow(40);
        const i32 = new Int32Array(e.memory.buffer), f32 = new Float32Array(e.memory.buffer);
        const D = 65536, A = D + 1024, B = A + M * K * 4, C = B + K * N * 4, W = C + M * N * 4;
        for (let i = 0; i < M * K; i++) f32[A / 4 + i] = Math.sin(i);
        for (let i = 0; i < K * N; i++) f32[B / 4 + i] = Math.cos(i);
        i32.set([1, M, N, K, A, 0, K * 4, 4, B, 0, N * 4, 4, C, 0, W], D / 4);
        e.matmul_f32(D);
        const mm = Array.from(f32.slice(C / 4, C / 4 + M * N));
        for (let i = 0; i < 101; i++) f32[A / 4 + i] = -50 + i;
        i32.fill(0, D / 4, D / 4 + 101);
        i32[D / 4] = 1; i32[D / 4 + 1] = C; i32[D / 4 + 2] = A; i32[D / 4 + 5] = 101; i32[D / 4 + 37] = 4; i32[D / 4 + 53] = 4;
        e.exp_f32(D);
        res.push({ variant: e.kernel_variant(), mm, ex: Array.from(f32.slice(C / 4, C / 4 + 101)) });
      }
      let mmErr = 0, exErr = 0;
      res[0].mm.forEach((v, i) => { mmErr = Math.max(mmErr, Math.abs(v - res[1].mm[i]) / (1 + Math.abs(v))); });
      res[0].ex.forEach((v, i) => { exErr = Math.max(exErr, Math.abs(v - res[1].ex[i]) / v); });
      process.stdout.write(JSON.stringify({ variants: res.map((x) => x.variant), mmErr, exErr }));`;
    const out = JSON.parse(
      execFileSync(process.execPath, [
        '--experimental-wasm-relaxed-simd',
        '--input-type=module',
        '-e',
        script,
      ]).toString(),
    ) as { variants: number[]; mmErr: number; exErr: number };
    expect(out.variants).toEqual([0, 1]);
    expect(out.mmErr).toBeLessThan(1e-4);
    expect(out.mmErr).toBeGreaterThanOrEqual(0);
    expect(out.exErr).toBeLessThan(5e-7);
  });

  it('wasm: the simd build gives bit-identical results in Node and Deno', () => {
    const probe = new URL('./wasm-determinism-probe.mjs', import.meta.url).pathname;
    const kernels = new URL('../../build/kernels-simd.wasm', import.meta.url).pathname;
    const deno = new URL('../../node_modules/.bin/deno', import.meta.url).pathname;
    const inNode = execFileSync(process.execPath, [probe, kernels]).toString().trim();
    expect(inNode).toMatch(/^hash \d+$/);
    if (!existsSync(deno)) return;
    const inDeno = execFileSync(deno, ['run', '--allow-read', probe, kernels], {
      env: { ...process.env, NO_COLOR: '1' },
    })
      .toString()
      .trim();
    expect(inDeno).toBe(inNode);
  }, 60_000);

  it('wasm: the relaxed build instantiates and matches simd closely where the engine supports it', async () => {
    if (!WebAssembly.validate(relaxedBytes)) {
      await expect(createWasmBackend({ bytes: relaxedBytes, variant: 'relaxed' })).rejects.toThrow();
      return;
    }
    const rb = await createWasmBackend({ bytes: relaxedBytes, variant: 'relaxed' });
    expect(rb.variant).toBe('relaxed');
    rb.dispose();
  });
});

describe('wasm: elementwise kernels', () => {
  const lengths = [0, 1, 3, 4, 7, 37];
  for (const [op, ref] of Object.entries(UNARY_REF)) {
    it(`wasm: ${op} matches float64 on odd lengths`, () => {
      for (const n of lengths) {
        let data = rand(n, -6, 6, n + 3);
        if (op === 'log' || op === 'sqrt') data = data.map((v) => Math.abs(v) * 3);
        if (n === 37) data[5] = 0;
        const x = tensor('float32', [n], data);
        const out = empty('float32', [n]);
        be.run(op as 'exp', out, [x], ACT as never);
        expectClose(values(out), data.map(ref), op === 'gelu' || op === 'gelu_tanh' ? 1e-5 : 4e-6, 1e-7);
        be.free(x.buffer);
        be.free(out.buffer);
      }
    });
  }

  it('wasm: exp, log, tanh, sigmoid and erf-based gelu over a wide range', () => {
    const data: number[] = [];
    for (let v = -100; v <= 100; v += 0.173) data.push(Math.fround(v));
    data.push(...[NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30, 88.7, 89, -103, 1e-40].map(Math.fround));
    const check = (
      op: 'exp' | 'log' | 'tanh' | 'sigmoid' | 'gelu' | 'gelu_tanh' | 'silu' | 'elu',
      ref: (x: number) => number,
      rtol: number,
    ) => {
      const xs = op === 'log' ? data.map(Math.abs) : data;
      const x = tensor('float32', [xs.length], xs);
      const out = empty('float32', [xs.length]);
      be.run(op, out, [x], ACT as never);
      const want = xs.map((v) => Math.fround(ref(v)));
      expectClose(values(out), want, rtol, 1e-40);
      be.free(x.buffer);
      be.free(out.buffer);
    };
    check('exp', Math.exp, 3e-7);
    check('log', Math.log, 3e-7);
    check('tanh', Math.tanh, 5e-7);
    check('sigmoid', sigmoid, 5e-7);
    check('silu', (x) => x * sigmoid(x), 5e-7);
    check('elu', (x) => (x > 0 ? x : ACT.alpha * Math.expm1(x)), 5e-7);
    check(
      'gelu_tanh',
      (x) =>
        Number.isNaN(x) || x === -Infinity
          ? NaN
          : x === Infinity
            ? Infinity
            : x * sigmoid(2 * K * (x + 0.044715 * x ** 3)),
      5e-7,
    );
    check('gelu', (x) => (Number.isNaN(x) || x === -Infinity ? NaN : x === Infinity ? Infinity : x * phi(x)), 2e-6);
  });

  it('wasm: sign(NaN) is 0 as torch; clamp is one-sided with null and keeps NaN', () => {
    const x = tensor('float32', [6], [NaN, -2, 0, 3, -0.5, 7]);
    const out = empty('float32', [6]);
    be.run('sign', out, [x], {});
    expectClose(values(out), [0, -1, 0, 1, -1, 1]);
    be.run('clamp', out, [x], { min: -1, max: null });
    expectClose(values(out), [NaN, -1, 0, 3, -0.5, 7]);
    be.run('clamp', out, [x], { min: -1, max: 2 });
    expectClose(values(out), [NaN, -1, 0, 2, -0.5, 2]);
    be.free(x.buffer);
    be.free(out.buffer);
  });

  it('wasm: int32 neg/abs/sign/clamp and bool logical_not', () => {
    const x = tensor('int32', [7], [-5, 0, 3, -2147483648, 9, -1, 2]);
    const out = empty('int32', [7]);
    be.run('neg', out, [x], {});
    expect(values(out)).toEqual([5, 0, -3, -2147483648, -9, 1, -2]);
    be.run('abs', out, [x], {});
    expect(values(out)).toEqual([5, 0, 3, -2147483648, 9, 1, 2]);
    be.run('sign', out, [x], {});
    expect(values(out)).toEqual([-1, 0, 1, -1, 1, -1, 1]);
    be.run('clamp', out, [x], { min: -1.5, max: 2.5 });
    expect(values(out)).toEqual([-1, 0, 2, -1, 2, -1, 2]);
    const b = tensor('bool', [5], [1, 0, 0, 1, 1]);
    const bo = empty('bool', [5]);
    be.run('logical_not', bo, [b], {});
    expect(values(bo)).toEqual([0, 1, 1, 0, 0]);
    for (const v of [x, out, b, bo]) be.free(v.buffer);
  });

  const BIN: Record<string, (a: number, b: number) => number> = {
    add: (a, b) => a + b,
    sub: (a, b) => a - b,
    mul: (a, b) => a * b,
    div: (a, b) => a / b,
    pow: (a, b) => Math.pow(a, b),
    maximum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
    minimum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
    eq: (a, b) => +(a === b),
    ne: (a, b) => +(a !== b),
    lt: (a, b) => +(a < b),
    le: (a, b) => +(a <= b),
    gt: (a, b) => +(a > b),
    ge: (a, b) => +(a >= b),
  };
  for (const [op, ref] of Object.entries(BIN)) {
    it(`wasm: ${op} float32 with broadcasts and a transposed input`, () => {
      const isCmp = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op);
      const odt: DType = isCmp ? 'bool' : 'float32';
      // [5, 7] @ a transposed [7, 5] buffer, b broadcast along dim 0 (stride 0).
      const aData = rand(35, -3, 3, 11).map((v) => Math.round(v * 2) / 2);
      aData[3] = NaN;
      const bData = rand(7, -3, 3, 12).map((v) => Math.round(v * 2) / 2);
      const aBuf = tensor('float32', [7, 5], aData);
      const a: TensorView = { ...aBuf, shape: [5, 7], strides: [1, 5] };
      const bBuf = tensor('float32', [7], bData);
      const b: TensorView = { ...bBuf, shape: [5, 7], strides: [0, 1] };
      const out = empty(odt, [5, 7]);
      be.run(op as 'add', out, [a, b], {});
      const want: number[] = [];
      for (let i = 0; i < 5; i++)
        for (let j = 0; j < 7; j++) want.push(Math.fround(ref(aData[j * 5 + i] as number, bData[j] as number)));
      expectClose(values(out), want, 1e-6);
      // scalar broadcast on the left, contiguous right, odd length
      const s: TensorView = { ...bBuf, shape: [5, 7], strides: [0, 0], offset: 2 };
      const c = tensor('float32', [5, 7], aData);
      be.run(op as 'add', out, [s, c], {});
      expectClose(
        values(out),
        aData.map((v) => Math.fround(ref(bData[2] as number, v))),
        1e-6,
      );
      for (const v of [aBuf, bBuf, c, out]) be.free(v.buffer);
    });
  }

  it('wasm: int32 binary ops wrap, pow is exact, comparisons give bool', () => {
    const a = tensor('int32', [9], [2, -3, 7, 2147483647, 1, -1, 0, 5, -4]);
    const b = tensor('int32', [9], [10, 3, -1, 1, -7, -3, 0, 2, 3]);
    const out = empty('int32', [9]);
    be.run('add', out, [a, b], {});
    expect(values(out)).toEqual([12, 0, 6, -2147483648, -6, -4, 0, 7, -1]);
    be.run('mul', out, [a, b], {});
    expect(values(out)).toEqual([20, -9, -7, 2147483647, -7, 3, 0, 10, -12]);
    be.run('pow', out, [a, b], {});
    expect(values(out)).toEqual([1024, -27, 0, 2147483647, 1, -1, 1, 25, -64]);
    be.run('maximum', out, [a, b], {});
    expect(values(out)).toEqual([10, 3, 7, 2147483647, 1, -1, 0, 5, 3]);
    const bo = empty('bool', [9]);
    be.run('lt', bo, [a, b], {});
    expect(values(bo)).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 1]);
    for (const v of [a, b, out, bo]) be.free(v.buffer);
  });

  it('wasm: where with a broadcast condition and scalar branch', () => {
    const cond = tensor('bool', [7], [1, 0, 1, 1, 0, 0, 1]);
    const c: TensorView = { ...cond, shape: [3, 7], strides: [0, 1] };
    const x = tensor('float32', [3, 7], rand(21, -1, 1, 5));
    const zero = tensor('float32', [1], [0]);
    const z: TensorView = { ...zero, shape: [3, 7], strides: [0, 0] };
    const out = empty('float32', [3, 7]);
    be.run('where', out, [c, x, z], {});
    const xv = values(x),
      cv = values(cond);
    expect(values(out)).toEqual(xv.map((v, i) => (cv[i % 7] ? v : 0)));
    const xi = tensor(
      'int32',
      [3, 7],
      Array.from({ length: 21 }, (_, i) => i),
    );
    const yi = tensor(
      'int32',
      [3, 7],
      Array.from({ length: 21 }, (_, i) => -i),
    );
    const oi = empty('int32', [3, 7]);
    be.run('where', oi, [c, xi, yi], {});
    expect(values(oi)).toEqual(Array.from({ length: 21 }, (_, i) => (cv[i % 7] ? i : -i)));
    for (const v of [cond, x, zero, out, xi, yi, oi]) be.free(v.buffer);
  });

  it('wasm: copy into a strided out view, and zero-size copies', () => {
    const x = tensor('float32', [2, 3], [1, 2, 3, 4, 5, 6]);
    const dst = be.alloc('float32', 12);
    const out: TensorView = { buffer: dst, dtype: 'float32', shape: [2, 3], strides: [1, 4], offset: 1 };
    be.run('copy', out, [x], {});
    expect(Array.from(be.readSync(dst, 0, 12))).toEqual([0, 1, 4, 0, 0, 2, 5, 0, 0, 3, 6, 0]);
    be.run('copy', { ...out, shape: [0, 3] }, [{ ...x, shape: [0, 3] }], {});
    const bx = tensor('bool', [5], [1, 0, 1, 1, 0]);
    const bo = empty('bool', [5]);
    be.run('copy', bo, [{ ...bx, strides: [-1], offset: 4 }], {});
    expect(values(bo)).toEqual([0, 1, 1, 0, 1]);
    for (const v of [x.buffer, dst, bx.buffer, bo.buffer]) be.free(v);
  });

  it('wasm: cast between float32, int32 and bool', () => {
    const x = tensor('float32', [7], [1.9, -1.9, 0, NaN, -0.4, 3e9, 5]);
    const i = empty('int32', [7]);
    be.run('cast', i, [x], {});
    expect(values(i)).toEqual([1, -1, 0, 0, 0, 2147483647, 5]);
    const big = tensor('float32', [6], [Infinity, -Infinity, -3e9, 2 ** 40 + 2 ** 33, -(2 ** 31), 1e20]);
    const bi = empty('int32', [6]);
    be.run('cast', bi, [big], {});
    expect(values(bi)).toEqual([2147483647, -2147483648, -2147483648, 2147483647, -(2 ** 31), 2147483647]);
    be.free(big.buffer);
    be.free(bi.buffer);
    const b = empty('bool', [7]);
    be.run('cast', b, [x], {});
    expect(values(b)).toEqual([1, 1, 0, 1, 1, 1, 1]);
    const f = empty('float32', [7]);
    be.run('cast', f, [b], {});
    expect(values(f)).toEqual([1, 1, 0, 1, 1, 1, 1]);
    be.run('cast', f, [i], {});
    expect(values(f)).toEqual([1, -1, 0, 0, 0, 2147483648, 5]);
    const ib = empty('bool', [7]);
    be.run('cast', ib, [i], {});
    expect(values(ib)).toEqual([1, 1, 0, 0, 0, 1, 1]);
    be.run('cast', i, [ib], {});
    expect(values(i)).toEqual([1, 1, 0, 0, 0, 1, 1]);
    for (const v of [x, i, b, f, ib]) be.free(v.buffer);
  });

  it('wasm: fill float32, int32 and bool', () => {
    for (const [dt, v, want] of [
      ['float32', 2.5, 2.5],
      ['int32', -7.9, -7],
      ['bool', 3, 1],
    ] as const) {
      const out = empty(dt, [11]);
      be.run('fill', out, [], { value: v });
      expect(values(out)).toEqual(new Array(11).fill(want));
      be.free(out.buffer);
    }
  });

  for (const fn of Object.keys(DERIV) as Activation[]) {
    it(`wasm: unary_backward ${fn} matches the analytic derivative`, () => {
      const n = 23;
      const xs = rand(n, -5, 5, 17);
      const gs = rand(n, -2, 2, 18);
      const x = tensor('float32', [n], xs);
      const g = tensor('float32', [n], gs);
      const out = empty('float32', [n]);
      be.run('unary_backward', out, [x, g], { ...ACT, fn });
      expectClose(
        values(out),
        xs.map((v, i) => (gs[i] as number) * (DERIV[fn] as (x: number) => number)(v)),
        1e-5,
        1e-6,
      );
      // broadcast gradOut (stride 0)
      be.run('unary_backward', out, [x, { ...g, strides: [0] }], { ...ACT, fn });
      expectClose(
        values(out),
        xs.map((v) => (gs[0] as number) * (DERIV[fn] as (x: number) => number)(v)),
        1e-5,
        1e-6,
      );
      for (const v of [x, g, out]) be.free(v.buffer);
    });
  }
});

describe('wasm: reductions', () => {
  it('wasm: a last-axis float sum of >= 64 elements follows the documented split order exactly', () => {
    for (const r of [63, 64, 100, 127, 784]) {
      const xs = rand(2 * r, -4, 4, r).map(Math.fround);
      const out = empty('float32', [2, 1]);
      be.run('sum', out, [tensor('float32', [2, r], xs)], { axis: 1 });
      const want: number[] = [];
      for (let row = 0; row < 2; row++) {
        const x = xs.slice(row * r, (row + 1) * r);
        const f = Math.fround;
        if (r < 64) {
          want.push(x.reduce((a, v) => f(a + v), 0));
          continue;
        }
        // 4 accumulators of 4 lanes over blocks of 16, (a0+a1)+(a2+a3), lanes (l0+l2)+(l1+l3), tail in order
        const acc = Array.from({ length: 16 }, (_, i) => x[i]!);
        let k = 16;
        for (; k + 16 <= r; k += 16) for (let i = 0; i < 16; i++) acc[i] = f(acc[i]! + x[k + i]!);
        const lane = [0, 1, 2, 3].map((l) => f(f(acc[l]! + acc[4 + l]!) + f(acc[8 + l]! + acc[12 + l]!)));
        let total = f(f(lane[0]! + lane[2]!) + f(lane[1]! + lane[3]!));
        for (; k < r; k++) total = f(total + x[k]!);
        want.push(total);
      }
      expect(values(out), `r = ${r}`).toEqual(want);
    }
  });

  const shape = [3, 5, 6];
  const data = rand(90, -4, 4, 21);
  const at = (i: number, j: number, k: number) => data[(i * 5 + j) * 6 + k] as number;
  function refReduce(op: string, axis: number): number[] {
    const outShape = shape.map((s, d) => (d === axis ? 1 : s));
    const out: number[] = [];
    for (let i = 0; i < (outShape[0] as number); i++)
      for (let j = 0; j < (outShape[1] as number); j++)
        for (let k = 0; k < (outShape[2] as number); k++) {
          let acc = op === 'sum' ? 0 : NaN,
            bi = 0;
          for (let r = 0; r < (shape[axis] as number); r++) {
            const v = axis === 0 ? at(r, j, k) : axis === 1 ? at(i, r, k) : at(i, j, r);
            if (op === 'sum') acc = Math.fround(acc + v);
            else if (r === 0 || (op.endsWith('max') ? v > acc : v < acc)) {
              acc = v;
              bi = r;
            }
          }
          out.push(op.startsWith('arg') ? bi : acc);
        }
    return out;
  }
  for (const op of ['sum', 'max', 'min', 'argmax', 'argmin'] as const) {
    it(`wasm: ${op} over each axis (float32)`, () => {
      const x = tensor('float32', shape, data);
      for (let axis = 0; axis < 3; axis++) {
        const oshape = shape.map((s, d) => (d === axis ? 1 : s));
        const out = empty(op.startsWith('arg') ? 'int32' : 'float32', oshape);
        be.run(op, out, [x], { axis });
        expect(values(out)).toEqual(refReduce(op, axis));
        be.free(out.buffer);
      }
      be.free(x.buffer);
    });
  }

  it('wasm: max/min propagate NaN and argmax finds the first NaN or first extreme', () => {
    const x = tensor('float32', [2, 9], [1, 5, NaN, 5, 2, NaN, 0, 0, 0, 3, 7, 7, -1, 7, 2, 2, 2, 2]);
    const m = empty('float32', [2, 1]);
    be.run('max', m, [x], { axis: 1 });
    expectClose(values(m), [NaN, 7]);
    be.run('min', m, [x], { axis: 1 });
    expectClose(values(m), [NaN, -1]);
    const i = empty('int32', [2, 1]);
    be.run('argmax', i, [x], { axis: 1 });
    expect(values(i)).toEqual([2, 1]);
    be.run('argmin', i, [x], { axis: 1 });
    expect(values(i)).toEqual([2, 3]);
    // columns (inner > 1) with NaN
    const xt = tensor('float32', [3, 5], [1, NaN, 3, 4, 5, 2, 2, NaN, 4, 1, 0, 9, 3, 8, 9]);
    const mi = empty('int32', [1, 5]);
    be.run('argmax', mi, [xt], { axis: 0 });
    expect(values(mi)).toEqual([1, 0, 1, 2, 2]);
    const mm = empty('float32', [1, 5]);
    be.run('max', mm, [xt], { axis: 0 });
    expectClose(values(mm), [2, NaN, NaN, 8, 9]);
    for (const v of [x, m, i, xt, mi, mm]) be.free(v.buffer);
  });

  it('wasm: int32 sums wrap and empty axes sum to 0', () => {
    const x = tensor('int32', [2, 3], [2147483647, 1, 5, -3, 4, 9]);
    const out = empty('int32', [1, 3]);
    be.run('sum', out, [x], { axis: 0 });
    expect(values(out)).toEqual([2147483644, 5, 14]);
    const o2 = empty('int32', [2, 1]);
    be.run('max', o2, [x], { axis: 1 });
    expect(values(o2)).toEqual([2147483647, 9]);
    const e = tensor('float32', [3, 0], []);
    const eo = empty('float32', [3, 1]);
    be.run('fill', eo, [], { value: 5 });
    be.run('sum', eo, [e], { axis: 1 });
    expect(values(eo)).toEqual([0, 0, 0]);
    for (const v of [x, out, o2, e, eo]) be.free(v.buffer);
  });

  it('wasm: a non-contiguous input is reduced correctly', () => {
    const x = tensor('float32', [4, 3], rand(12, -1, 1, 3));
    const xt: TensorView = { ...x, shape: [3, 4], strides: [1, 3] };
    const out = empty('float32', [3, 1]);
    be.run('sum', out, [xt], { axis: 1 });
    const xv = values(x);
    const want = [0, 1, 2].map((r) => [0, 1, 2, 3].reduce((acc, c) => Math.fround(acc + (xv[c * 3 + r] as number)), 0));
    expect(values(out)).toEqual(want);
    be.free(x.buffer);
    be.free(out.buffer);
  });
});

describe('wasm: matmul', () => {
  function naive(
    a: number[],
    b: number[],
    B: number,
    M: number,
    K: number,
    N: number,
    aT: boolean,
    bT: boolean,
    aBroadcast: boolean,
    bias?: number[],
  ): number[] {
    const out: number[] = [];
    for (let p = 0; p < B; p++)
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = bias ? (bias[j] as number) : 0;
          for (let k = 0; k < K; k++) {
            const ab = aBroadcast ? 0 : p * M * K;
            const av = aT ? a[ab + k * M + i] : a[ab + i * K + k];
            const bv = bT ? b[p * K * N + j * K + k] : b[p * K * N + k * N + j];
            s += (av as number) * (bv as number);
          }
          out.push(s);
        }
    return out;
  }
  const cases: [number, number, number, number][] = [
    [1, 1, 1, 1],
    [2, 3, 37, 21],
    [1, 2, 9, 3],
    [1, 1, 784, 64],
    [1, 1, 67, 75],
    [2, 2, 33, 41],
    [1, 9, 5, 19],
    [1, 70, 8, 33],
    [1, 5, 7, 3],
    [2, 13, 9, 17],
    [1, 4, 8, 8],
    [1, 33, 300, 70],
    [3, 6, 2, 530],
    [1, 2, 0, 5],
  ];
  for (const [B, M, K, N] of cases) {
    for (const aT of [false, true])
      for (const bT of [false, true]) {
        it(`wasm: matmul [${B},${M},${K}]x[${B},${K},${N}] aT=${aT} bT=${bT}, with bias and a broadcast A`, () => {
          const aData = rand(B * M * K, -1, 1, M + K);
          const bData = rand(B * K * N, -1, 1, K + N);
          const biasData = rand(N, -1, 1, 99);
          const aBuf = tensor('float32', [B * M * K], aData);
          const bBuf = tensor('float32', [B * K * N], bData);
          const biasT = tensor('float32', [N], biasData);
          const a: TensorView = { ...aBuf, shape: [B, M, K], strides: aT ? [M * K, 1, M] : [M * K, K, 1] };
          const b: TensorView = { ...bBuf, shape: [B, K, N], strides: bT ? [K * N, 1, K] : [K * N, N, 1] };
          const out = empty('float32', [B, M, N]);
          be.run('matmul', out, [a, b], {});
          expectClose(values(out), naive(aData, bData, B, M, K, N, aT, bT, false), 1e-5, 1e-5);
          be.run('matmul', out, [{ ...a, strides: [0, a.strides[1] as number, a.strides[2] as number] }, b, biasT], {});
          expectClose(values(out), naive(aData, bData, B, M, K, N, aT, bT, true, biasData), 1e-5, 1e-5);
          for (const v of [aBuf, bBuf, biasT, out]) be.free(v.buffer);
        });
      }
  }

  it('wasm: matmul into a non-contiguous out view, with a broadcast (stride 0) bias', () => {
    const [M, K, N] = [5, 6, 7];
    const aData = rand(M * K, -1, 1, 41),
      bData = rand(K * N, -1, 1, 42);
    const a = tensor('float32', [1, M, K], aData),
      b = tensor('float32', [1, K, N], bData);
    const bias = tensor('float32', [1], [0.5]);
    const dst = be.alloc('float32', M * N * 2);
    // out[i][j] lives at (j * M + i) * 2 + 1: transposed and interleaved.
    const out: TensorView = { buffer: dst, dtype: 'float32', shape: [1, M, N], strides: [0, 2, 2 * M], offset: 1 };
    be.run('matmul', out, [a, b, { ...bias, shape: [N], strides: [0] }], {});
    const got = Array.from(be.readSync(dst, 0, M * N * 2));
    const want = naive(aData, bData, 1, M, K, N, false, false, false, new Array(N).fill(0.5));
    const picked: number[] = [];
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) picked.push(got[(j * M + i) * 2 + 1] as number);
    expectClose(picked, want, 1e-5, 1e-5);
    for (let i = 0; i < M * N; i++) expect(got[i * 2]).toBe(0);
    for (const v of [a.buffer, b.buffer, bias.buffer, dst]) be.free(v);
  });

  it('wasm: matmul with K beyond one KC block and odd edges', () => {
    const [M, K, N] = [37, 700, 29];
    const aData = rand(M * K, -1, 1, 5),
      bData = rand(K * N, -1, 1, 6);
    const a = tensor('float32', [1, M, K], aData),
      b = tensor('float32', [1, K, N], bData);
    const out = empty('float32', [1, M, N]);
    be.run('matmul', out, [a, b], {});
    expectClose(values(out), naive(aData, bData, 1, M, K, N, false, false, false), 1e-5, 1e-4);
    for (const v of [a, b, out]) be.free(v.buffer);
  });
});

describe('wasm: gather and scatter_add', () => {
  it('wasm: gather along each axis, with an index narrower than x', () => {
    const x = tensor('float32', [3, 4], [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
    const idx = tensor('int32', [3, 2], [3, 0, 1, 1, 2, 3]);
    const out = empty('float32', [3, 2]);
    be.run('gather', out, [x, idx], { axis: 1 });
    expect(values(out)).toEqual([3, 0, 11, 11, 22, 23]);
    const idx0 = tensor('int32', [2, 3], [2, 0, 1, 1, 1, 0]);
    const out0 = empty('float32', [2, 3]);
    be.run('gather', out0, [x, idx0], { axis: 0 });
    expect(values(out0)).toEqual([20, 1, 12, 10, 11, 2]);
    const bad = tensor('int32', [3, 2], [0, 4, 0, 0, 0, 0]);
    expect(() => be.run('gather', out, [x, bad], { axis: 1 })).toThrow(IndexError);
    const neg = tensor('int32', [3, 2], [0, -1, 0, 0, 0, 0]);
    expect(() => be.run('gather', out, [x, neg], { axis: 1 })).toThrow(IndexError);
    for (const v of [x, idx, out, idx0, out0, bad, neg]) be.free(v.buffer);
  });

  it('wasm: scatter_add accumulates repeated indices in order (float32 and int32)', () => {
    const base = tensor('float32', [2, 3], [1, 1, 1, 2, 2, 2]);
    const idx = tensor('int32', [2, 2], [0, 0, 2, 1]);
    const src = tensor('float32', [2, 2], [5, 6, 7, 8]);
    const out = empty('float32', [2, 3]);
    be.run('scatter_add', out, [base, idx, src], { axis: 1 });
    expect(values(out)).toEqual([12, 1, 1, 2, 10, 9]);
    const ib = tensor('int32', [3], [0, 0, 0]);
    const ii = tensor('int32', [4], [2, 0, 2, 2]);
    const is = tensor('int32', [4], [1, 2, 3, 4]);
    const io = empty('int32', [3]);
    be.run('scatter_add', io, [ib, ii, is], { axis: 0 });
    expect(values(io)).toEqual([2, 0, 8]);
    const bad = tensor('int32', [4], [0, 0, 3, 0]);
    expect(() => be.run('scatter_add', io, [ib, bad, is], { axis: 0 })).toThrow(IndexError);
    for (const v of [base, idx, src, out, ib, ii, is, io, bad]) be.free(v.buffer);
  });
});
