/**
 * @module lightning/ddp-units.test — the parts of `strategy: 'ddp'` that run in one thread:
 * DistributedSampler's sharding (torch's), the shared-buffer collectives, and bad options.
 * The multi-rank runs are in test/ddp/ddp.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  DistributedSampler,
  MisconfigurationError,
  NotAvailableYetError,
  Trainer,
  ValueError,
} from '../../bindings/node.ts';
import { SharedCollective, sharedBytes } from '../../runtime/lightning/strategies/all-reduce.ts';
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
