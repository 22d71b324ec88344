/**
 * @module lightning/ddp-units.test — the parts of `strategy: 'ddp'` that run in one thread:
 * DistributedSampler's sharding (torch's), the shared-buffer collectives, and bad options.
 * The multi-rank runs are in test/ddp/ddp.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  DistributedSampler,
  getDefaultBackend,
  MisconfigurationError,
  NotAvailableYetError,
  Trainer,
  ValueError,
} from '../../bindings/node.ts';
import { copyFloats, SharedCollective, sharedBytes } from '../../runtime/lightning/strategies/all-reduce.ts';
import { DistributedError } from '../../runtime/lightning/errors.ts';

describe('ddp units', () => {
  it('DistributedSampler: pads by repeating from the start and takes indices[rank::world], as torch', () => {
    const ds = { length: 5 };
    const shards = [0, 1].map((rank) => [...new DistributedSampler(ds, { numReplicas: 2, rank, shuffle: false })]);
    expect(shards).toEqual([
      [0, 2, 4],
      [1, 3, 0],
    ]);
    const dropped = [0, 1].map((rank) => [
      ...new DistributedSampler(ds, { numReplicas: 2, rank, shuffle: false, dropLast: true }),
    ]);
    expect(dropped).toEqual([
      [0, 2],
      [1, 3],
    ]);
    const s0 = new DistributedSampler({ length: 10 }, { numReplicas: 2, rank: 0, seed: 3 });
    const s1 = new DistributedSampler({ length: 10 }, { numReplicas: 2, rank: 1, seed: 3 });
    const e0 = [...s0, ...s1].sort((a, b) => a - b);
    expect(e0).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const first = [...s0];
    s0.setEpoch(1);
    expect([...s0]).not.toEqual(first);
    s0.setEpoch(0);
    expect([...s0]).toEqual(first);
    expect(() => new DistributedSampler(ds, { numReplicas: 2, rank: 2 })).toThrow(ValueError);
  });

  it('SharedCollective: the mean is reduced in a fixed order, and an abort wakes a waiting rank with a DistributedError', async () => {
    const n = 1001;
    const sab = new SharedArrayBuffer(sharedBytes(2, n));
    const ranks = [0, 1].map((r) => new SharedCollective(sab, r, 2, n));
    ranks[0]!.input().fill(0.1);
    ranks[1]!.input().fill(0.3);
    await Promise.all(ranks.map((c) => c.allReduceMean(n)));
    expect(ranks[1]!.output()[n - 1]).toBe(Math.fround(Math.fround(Math.fround(0.1) + Math.fround(0.3)) / 2));
    expect(await Promise.all(ranks.map((c, r) => c.anyTrue(r === 1)))).toEqual([true, true]);
    const waiting = ranks[0]!.barrier();
    ranks[1]!.abort(1, 'RangeError: boom');
    await expect(waiting).rejects.toThrow(DistributedError);
    await expect(ranks[0]!.barrier()).rejects.toThrow(/rank 1 failed.*RangeError: boom/);
  });

  it('SharedCollective: 3 ranks sum in rank order with float32 rounding, the sets alternate, and anyBits ORs', async () => {
    const n = 7;
    const sab = new SharedArrayBuffer(sharedBytes(3, n));
    const ranks = [0, 1, 2].map((r) => new SharedCollective(sab, r, 3, n));
    const vals = [1e8, 1, -1e8];
    for (let step = 0; step < 3; step++) {
      ranks.forEach((c, r) => c.input().fill(vals[r]! * (step + 1)));
      await Promise.all(ranks.map((c) => c.allReduceMean(n)));
      const f = Math.fround;
      const want = f(f(f(f(vals[0]! * (step + 1)) + f(vals[1]! * (step + 1))) + f(vals[2]! * (step + 1))) / 3);
      for (const c of ranks) expect([...c.output().subarray(0, n)]).toEqual(new Array(n).fill(want));
    }
    expect(await Promise.all(ranks.map((c, r) => c.anyBits(1 << r)))).toEqual([7, 7, 7]);
  });

  it('SharedCollective: ranks in different collectives at the same point fail with a DistributedError naming both, not pair up', async () => {
    const n = 8;
    const sab = new SharedArrayBuffer(sharedBytes(2, n));
    const ranks = [0, 1].map((r) => new SharedCollective(sab, r, 2, n));
    // in step first: a mean, then a stop agreement, then a broadcast
    await Promise.all(ranks.map((c) => c.allReduceMean(n)));
    expect(await Promise.all(ranks.map((c) => c.anyBits(0)))).toEqual([0, 0]);
    await Promise.all(ranks.map((c) => c.broadcast(n)));
    // then rank 0 averages where rank 1 agrees on stopping
    const results = await Promise.allSettled([ranks[0]!.allReduceMean(n), ranks[1]!.anyBits(1)]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DistributedError);
    }
    // whichever rank looks first names both collectives; the other reports that rank's failure
    for (const r of results) {
      expect(String((r as PromiseRejectedResult).reason)).toMatch(
        /rank [01] is in a (mean|bits) collective where rank [01] is in a (bits|mean) one; expected every rank to call the same collectives in the same order/,
      );
    }
    expect(ranks[0]!.failure).not.toBeNull();
  });

  it('SharedCollective: allReduceSumSync sums in rank order and takes its turn in the double-buffered sequence of the async collectives', async () => {
    const n = 5;
    const sab = new SharedArrayBuffer(sharedBytes(2, n));
    const ranks = [0, 1].map((r) => new SharedCollective(sab, r, 2, n));
    const f = Math.fround;
    for (let step = 0; step < 3; step++) {
      // One thread plays both ranks: rank 1 arrives first through the async twin of the sum (same
      // turn, same slots), so rank 0's blocking call arrives last and does not wait.
      ranks[0]!.input().fill(0.1 * (step + 1));
      ranks[1]!.input().fill(0.7);
      const other = ranks[1]!.allReduceSum(n);
      ranks[0]!.allReduceSumSync(n);
      await other;
      expect([...ranks[0]!.output().subarray(0, n)]).toEqual(new Array(n).fill(f(f(0.1 * (step + 1)) + f(0.7))));
      expect([...ranks[1]!.output().subarray(0, n)]).toEqual([...ranks[0]!.output().subarray(0, n)]);
      // and then a mean, in the same sequence (its inputs are the other set's slots)
      ranks[0]!.input().fill(0.1 * (step + 1));
      ranks[1]!.input().fill(0.7);
      const mean = ranks[1]!.allReduceMean(n);
      await ranks[0]!.allReduceMean(n);
      await mean;
      expect(ranks[1]!.output()[0]).toBe(f(f(f(0.1 * (step + 1)) + f(0.7)) / 2));
      // The sets alternate on both ranks alike: the next turn's slots are the other set.
      expect(ranks[0]!.input().byteOffset).toBe(ranks[1]!.input().byteOffset - n * 4);
    }
    expect(() => ranks[0]!.allReduceSumSync(n + 1)).toThrow(/collective too large; expected at most 5 values/);
    ranks[1]!.abort(1, 'RangeError: boom');
    expect(() => ranks[0]!.allReduceSumSync(n)).toThrow(/rank 1 failed.*RangeError: boom/);
  });

  it('wasm readInto: copies a buffer straight into a shared Float32Array, as readSync reads it', () => {
    const b = getDefaultBackend();
    const buf = b.alloc('float32', 5);
    b.write(buf, new Float32Array([1, 2, 3, 4, 5]));
    const target = new Float32Array(new SharedArrayBuffer(4 * 6));
    b.readInto!(buf, 1, 3, target, 2);
    expect([...target]).toEqual([0, 0, 2, 3, 4, 0]);
    b.free(buf);
    const out = new Float32Array(4);
    copyFloats(out, 1, target.subarray(2, 5));
    expect([...out]).toEqual([0, 2, 3, 4]);
  });

  it("Trainer: bad devices and strategies for 'ddp' throw typed errors that say what to write", () => {
    expect(() => new Trainer({ strategy: 'ddp', devices: 0 })).toThrow(MisconfigurationError);
    expect(() => new Trainer({ strategy: 'ddp', devices: 1.5 })).toThrow(/an integer >= 1, -1 \(all cores\) or 'auto'/);
    expect(() => new Trainer({ strategy: 'ddp', devices: 2, accelerator: 'webgpu' })).toThrow(
      /strategy 'ddp' with accelerator 'webgpu' is not supported yet/,
    );
    expect(() => new Trainer({ strategy: 'single_device', devices: 2 })).toThrow(MisconfigurationError);
    expect(() => new Trainer({ devices: [0, 1] })).toThrow(NotAvailableYetError);
    const t = new Trainer({ strategy: 'ddp', devices: 2, logger: false });
    expect([t.globalRank, t.worldSize, t.isGlobalZero, t.options.accelerator]).toEqual([0, 2, true, 'cpu']);
    expect(new Trainer({ devices: 3, logger: false }).options.strategy).toBe('ddp');
  });
});
