/**
 * @module lightning/message-collective.test — the collectives by transferred buffers (a page
 * without SharedArrayBuffer) in one thread: every rank is an async function over real
 * MessageChannels, and the results are checked bit for bit against the shared-buffer collectives.
 * The multi-worker run on a page that is not cross-origin isolated is in test/ddp/browser.test.ts.
 */
import { MessageChannel as NodeMessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedCollective, sharedBytes } from '../../runtime/lightning/strategies/all-reduce.ts';
import { MessageCollective } from '../../runtime/lightning/strategies/message-collective.ts';
import { DistributedError } from '../../runtime/lightning/errors.ts';

const open: MessageCollective[] = [];

/** `world` ranks over MessageChannels: rank 0 holds a port to each other rank. */
function ranks(world: number, capacity: number): MessageCollective[] {
  const channels = Array.from({ length: world - 1 }, () => new MessageChannel());
  const out = [new MessageCollective(0, world, capacity, [null, ...channels.map((c) => c.port1)])];
  for (let r = 1; r < world; r++) out.push(new MessageCollective(r, world, capacity, [channels[r - 1]!.port2]));
  open.push(...out);
  return out;
}

function sharedRanks(world: number, capacity: number): SharedCollective[] {
  const sab = new SharedArrayBuffer(sharedBytes(world, capacity));
  return Array.from({ length: world }, (_, r) => new SharedCollective(sab, r, world, capacity));
}

/** Values whose float32 sums round differently in different orders. */
function values(rank: number, n: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.fround(Math.sin(i * 7.1 + rank * 1.3) * 10 ** ((i % 9) - 4));
  return v;
}

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

describe('message collectives', () => {
  it('allReduceMean: the same bits as the shared buffer on every rank, for 2 and 3 ranks', async () => {
    for (const world of [2, 3]) {
      const n = 1001;
      const msg = ranks(world, n);
      const sh = sharedRanks(world, n);
      msg.forEach((c, r) => c.input().set(values(r, n)));
      sh.forEach((c, r) => c.input().set(values(r, n)));
      await Promise.all(msg.map((c) => c.allReduceMean(n)));
      await Promise.all(sh.map((c) => c.allReduceMean(n)));
      const want = sh[0]!.output().slice(0, n);
      // the reduction order matters at these magnitudes: a different order would not match
      const reversed = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let r = world - 1; r >= 0; r--) s = Math.fround(s + values(r, n)[i]!);
        reversed[i] = Math.fround(s / world);
      }
      for (const c of msg) expect(new Uint32Array(c.output().slice(0, n).buffer)).toEqual(new Uint32Array(want.buffer));
      expect(want.some((v, i) => v !== reversed[i])).toBe(world === 3);
    }
  });

  it('broadcast, anyBits and barrier: rank 0 values everywhere, the OR of the bits, every rank released', async () => {
    const c = ranks(3, 16);
    c.forEach((x, r) => x.input().set(values(r, 16)));
    await Promise.all(c.map((x) => x.broadcast(16)));
    for (const x of c) expect([...x.output().slice(0, 16)]).toEqual([...values(0, 16)]);
    const bits = await Promise.all(c.map((x, r) => x.anyBits(r === 2 ? 2 : r === 1 ? 1 : 0)));
    expect(bits).toEqual([3, 3, 3]);
    let released = 0;
    const waits = c.map((x) => x.barrier().then(() => released++));
    await Promise.all(waits);
    expect(released).toBe(3);
    // a rank that waits alone stays waiting
    let alone = false;
    void c[1]!.barrier().then(() => {
      alone = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(alone).toBe(false);
  });

  it('collectives in sequence reuse the buffers: 50 rounds of mean and bits', async () => {
    const c = ranks(2, 64);
    for (let k = 0; k < 50; k++) {
      c.forEach((x, r) => x.input().fill(k + r, 0, 64));
      await Promise.all(c.map((x) => x.allReduceMean(64)));
      for (const x of c) expect(x.output()[63]).toBe(k + 0.5);
      expect(await Promise.all(c.map((x) => x.anyBits(k === 49 && x.rank === 1 ? 1 : 0)))).toEqual(
        k === 49 ? [1, 1] : [0, 0],
      );
    }
  });

  it('abort: a worker rank failing wakes rank 0 and the other workers with a DistributedError naming it', async () => {
    const c = ranks(3, 8);
    const zero = c[0]!.allReduceMean(8);
    const two = c[2]!.allReduceMean(8);
    c[1]!.abort(1, 'Error: boom in trainingStep');
    await expect(zero).rejects.toThrow(DistributedError);
    await expect(zero).rejects.toThrow(/rank 1 failed.*boom in trainingStep/);
    await expect(two).rejects.toThrow(/rank 1 failed, so the run stopped on rank 2/);
    expect(c[2]!.failure).toEqual({ rank: 1, message: 'Error: boom in trainingStep' });
    // a later collective throws at once
    await expect(c[0]!.barrier()).rejects.toThrow(/rank 1 failed/);
    expect(c[0]!.abort(0, 'second')).toBe(false);
  });

  it('ranks out of step: a DistributedError saying which collectives met', async () => {
    const c = ranks(2, 8);
    const zero = c[0]!.allReduceMean(8);
    const one = c[1]!.anyBits(1);
    await expect(zero).rejects.toThrow(/rank 0 is in collective 1 \(mean\) but rank 1 sent collective 1 \(bits\)/);
    await expect(one).rejects.toThrow(DistributedError);
  });

  it('bad input: too many values, or the wrong ports, is a DistributedError', async () => {
    const c = ranks(2, 8);
    await expect(c[1]!.allReduceMean(9)).rejects.toThrow(/expected at most 8 values.*got 9 on rank 1/);
    const { port1 } = new MessageChannel();
    expect(() => new MessageCollective(0, 3, 8, [null, port1])).toThrow(DistributedError);
    expect(() => new MessageCollective(1, 2, 8, [null])).toThrow(/one port to rank 0/);
    port1.close();
  });

  it("works over the Web's ports and Node's worker_threads ports alike (a mean, then the run's last barrier)", async () => {
    for (const Channel of [MessageChannel, NodeMessageChannel]) {
      const { port1, port2 } = new Channel();
      const zero = new MessageCollective(0, 2, 4, [null, port1 as unknown as MessagePort]);
      const one = new MessageCollective(1, 2, 4, [port2 as unknown as MessagePort]);
      zero.input().set([1, 2, 3, 4]);
      one.input().set([3, 4, 5, 6]);
      await Promise.all([zero.allReduceMean(4), one.allReduceMean(4)]);
      expect([...one.output()]).toEqual([2, 3, 4, 5]);
      await Promise.all([zero.barrier(), one.barrier()]);
      one.close(); // the worker closes the channel once the last reply is in (see DDPStrategy.end)
    }
  });
});
