/**
 * @module memory-gc.test — the garbage collector's safety net: a tensor that no scope owns
 * and that the program drops without dispose() gives its buffer back when collected. Tensors
 * register with the FinalizationRegistry only once no scope owns them (created outside every
 * scope, passed to keep(), or returned from the outermost scope), so these three paths are
 * checked here, in a Node child started with --expose-gc against the built bundle.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { describeRun, runChild } from './helpers/child-process.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

const PROGRAM = `
const lt = await import(${JSON.stringify(new URL('../dist/lightning-ts.node.js', import.meta.url).href)});
const live = () => lt.getDefaultBackend().memory().liveBuffers;
const collect = async () => { for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); } };
const out = {};
const base = live();
(() => { for (let i = 0; i < 50; i++) lt.zeros([8]).add(1); })();
out.outside = live() - base;
await collect();
out.outsideAfterGc = live() - base;
(() => { for (let i = 0; i < 50; i++) lt.tidy(() => { lt.keep(lt.ones([4]).mul(2)); }); })();
out.kept = live() - base;
await collect();
out.keptAfterGc = live() - base;
(() => { for (let i = 0; i < 50; i++) lt.tidy(() => lt.tidy(() => lt.ones([4]).mul(3))); })();
out.returned = live() - base;
await collect();
out.returnedAfterGc = live() - base;
const held = lt.tidy(() => lt.ones([4]).mul(3));
await collect();
out.heldAlive = live() - base;
out.heldValue = Array.from(await held.data());
console.log(JSON.stringify(out));
`;

describe('memory: garbage collection', () => {
  it('memory: dropped tensors that no scope owns are returned by the FinalizationRegistry', async () => {
    const r = await runChild(process.execPath, ['--expose-gc', '--input-type=module', '-e', PROGRAM], {
      cwd: ROOT,
      timeoutMs: 60_000,
    });
    expect(r.code, describeRun('node --expose-gc', r)).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    // each loop body leaves one or two tensors that nothing disposes
    expect(out['outside'], 'made outside any scope: alive until collected').toBeGreaterThanOrEqual(50);
    expect(out['outsideAfterGc']).toBe(0);
    expect(out['kept'], 'keep(): the scope leaves it alone').toBe(50);
    expect(out['keptAfterGc']).toBe(0);
    expect(out['returned'], 'returned from the outermost scope').toBe(50);
    expect(out['returnedAfterGc']).toBe(0);
    expect(out['heldAlive'], 'a tensor still referenced is not collected').toBe(1);
    expect(out['heldValue']).toEqual([3, 3, 3, 3]);
  });
});
