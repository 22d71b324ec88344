/**
 * @module conformance.test — every backend against the reference, op by op and dtype by
 * dtype: odd lengths (SIMD tails), broadcasting, zero-size tensors, non-contiguous views,
 * reductions over each axis, matmul in every transpose layout, batch broadcast and bias.
 *
 * Tolerances come from the one table in test/helpers/tolerance.ts. A backend must implement
 * every op for every dtype that both `opDTypes(op)` and its capabilities list: a
 * NotImplementedOpError fails the case. While only the reference exists, the suite checks
 * the reference against a second reference instance, so every case still runs end to end.
 *
 * The cases live in test/backends/cases.ts, which the WebGPU parity runners in Deno,
 * Chromium and Node share (test/runtimes/webgpu-parity.test.ts); here each is one test.
 */
import { describe, expect, it } from 'vitest';
import type { Backend, BufferHandle, TensorView } from '../../runtime/backend.ts';
import type { StorageArray } from '../../runtime/dtype.ts';
import type { OpAttrs } from '../../runtime/ops.ts';
import { OP_NAMES, opDTypes } from '../../runtime/ops.ts';
import { allocArray } from '../../runtime/dtype.ts';
import { ShapeError } from '../../runtime/errors.ts';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';
import { availableBackends, contiguousStrides } from '../helpers/backends.ts';
import { CONTIGUOUS, adamVariants, casesFor, describeLayout, layoutView, parityChecks } from './cases.ts';
import type { Layout } from './cases.ts';

/** A backend.run('adam', ...) that is expected to throw, with its buffers freed either way. */
function adamThrows(
  backend: Backend,
  build: (alloc: (n: number) => TensorView) => { out: TensorView; inputs: TensorView[] },
  attrs: OpAttrs['adam'],
): unknown {
  const bufs: BufferHandle[] = [];
  const alloc = (n: number): TensorView => {
    const buffer = backend.alloc('float32', n);
    bufs.push(buffer);
    return { buffer, dtype: 'float32', shape: [n], strides: [1], offset: 0 };
  };
  try {
    const { out, inputs } = build(alloc);
    backend.run('adam', out, inputs, attrs);
    return undefined;
  } catch (e) {
    return e;
  } finally {
    for (const b of bufs) backend.free(b);
  }
}

const reference = createReferenceBackend();
const available = await availableBackends();
/** The backends under test; the reference checks itself (a second instance) so the suite always runs. */
const targets: { label: string; backend: Backend }[] = [
  { label: 'reference', backend: available[0] ?? createReferenceBackend() },
  ...available.slice(1).map((backend) => ({ label: backend.name, backend })),
];

describe('conformance', () => {
  it('conformance: availableBackends() lists the reference first', () => {
    expect(available.map((b) => b.name)).toContain('reference');
    expect(available[0]?.name).toBe('reference');
  });

  it('conformance: every op in OP_NAMES has cases for each of its dtypes', () => {
    for (const op of OP_NAMES) {
      for (const dtype of opDTypes(op)) expect(casesFor(op, dtype).length, `${op} ${dtype}`).toBeGreaterThan(0);
    }
  });

  it('conformance: an input spec of every layout stays inside its buffer', () => {
    const fill = (n: number): StorageArray => allocArray('float32', n);
    const layouts: Layout[] = [
      CONTIGUOUS,
      { kind: 'offset', offset: 3 },
      { kind: 'broadcast', dims: [0, 2] },
      { kind: 'permuted', perm: [2, 0, 1] },
      { kind: 'stepped', step: 3 },
    ];
    for (const l of layouts) {
      const v = layoutView('float32', [3, 4, 5], l, fill);
      const strides = v.strides ?? contiguousStrides(v.shape);
      const last = (v.offset ?? 0) + v.shape.reduce((acc, s, d) => acc + (s - 1) * (strides[d] ?? 0), 0);
      expect(last, describeLayout(l)).toBeLessThan(v.data?.length ?? 0);
    }
  });
});

for (const { label, backend } of targets) {
  describe(`conformance ${label}`, () => {
    for (const check of parityChecks(backend.capabilities.dtypes)) {
      it(`conformance ${label}: ${check.name}`, async () => {
        await check.run(backend, reference);
      });
    }
    it(`conformance ${label}: adam rejects a non-contiguous operand, an entry of mixed numel, and an out that is not the first param`, () => {
      const attrs = { ...adamVariants()[0]![1], count: 2 };
      const entry = (alloc: (n: number) => TensorView, n: number): TensorView[] => [
        alloc(n),
        alloc(n),
        alloc(n),
        alloc(n),
      ];
      const stepped = adamThrows(
        backend,
        (alloc) => {
          const a = entry(alloc, 3);
          const b = entry(alloc, 6);
          b[2] = { ...b[2]!, shape: [3], strides: [2] };
          b[0] = { ...b[0]!, shape: [3] };
          b[1] = { ...b[1]!, shape: [3] };
          b[3] = { ...b[3]!, shape: [3] };
          return { out: a[0]!, inputs: [...a, ...b] };
        },
        attrs,
      );
      expect(stepped).toBeInstanceOf(ShapeError);
      const mixed = adamThrows(
        backend,
        (alloc) => {
          const a = entry(alloc, 3);
          const b = [alloc(4), alloc(4), alloc(5), alloc(4)];
          return { out: a[0]!, inputs: [...a, ...b] };
        },
        attrs,
      );
      expect(mixed).toBeInstanceOf(ShapeError);
      const wrongOut = adamThrows(
        backend,
        (alloc) => {
          const a = entry(alloc, 3);
          const b = entry(alloc, 3);
          return { out: b[0]!, inputs: [...a, ...b] };
        },
        attrs,
      );
      expect(wrongOut).toBeInstanceOf(ShapeError);
      expect(String((wrongOut as Error).message)).toMatch(/^adam: out must be the first param itself; expected/);
    });
  });
}
