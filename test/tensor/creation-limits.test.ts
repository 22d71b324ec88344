/**
 * Creation functions refuse sizes a backend cannot hold before computing any value.
 *
 * `randn([2 ** 31])` used to draw 2^31 normals (gigabytes and minutes) before the wasm
 * allocation was refused. Now the output is allocated first, so the refusal is immediate
 * and nothing is drawn: the generator's state is unchanged after the error.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { BackendError, ShapeError } from '../../runtime/errors.ts';
import { Generator, arange, eye, linspace, rand, randint, randn, randperm, zeros } from '../../runtime/index.ts';
import { availableBackends } from '../helpers/backends.ts';

const backends = await availableBackends();
afterAll(() => {
  for (const b of backends) b.dispose();
});
const wasm = backends.find((b) => b.name === 'wasm');

describe('creation limits', () => {
  it.runIf(wasm !== undefined)(
    'creation: randn/rand/randint/randperm beyond wasm memory are refused at once, drawing nothing',
    () => {
      const backend = wasm!;
      const g = new Generator().manualSeed(7);
      const before = g.getState();
      const huge = 2 ** 31;
      expect(() => randn([huge], { backend, generator: g })).toThrow(BackendError);
      expect(() => rand([huge], { backend, generator: g })).toThrow(BackendError);
      expect(() => randint(0, 10, [huge], { backend, generator: g })).toThrow(BackendError);
      expect(() => randperm(huge, { backend, generator: g })).toThrow(BackendError);
      expect(() => arange(huge, { backend })).toThrow(BackendError);
      expect(() => linspace(0, 1, huge, { backend })).toThrow(BackendError);
      expect(() => eye(40_000, 40_000, { backend })).toThrow(BackendError);
      // nothing was drawn: the next draw is the first draw of the seeded stream
      expect(g.getState()).toEqual(before);
      // and the backend is still usable
      expect(zeros([3], { backend }).shape).toEqual([3]);
    },
  );

  it('creation: a shape past the largest typed array is a ShapeError on every backend', () => {
    for (const backend of backends) {
      expect(() => zeros([2 ** 20, 2 ** 20], { backend })).toThrow(ShapeError);
      expect(() => randn([2 ** 40], { backend })).toThrow(ShapeError);
    }
  });
});
