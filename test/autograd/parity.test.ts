/**
 * Gradient parity: every gradient rule computed in float32 on each available backend
 * matches the float64 gradient of the reference backend (which gradcheck.test.ts checks
 * against finite differences), so the float32 kernels of the backward pass are covered too.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';
import { analyticGrads } from '../helpers/gradcheck.ts';
import { availableBackends } from '../helpers/backends.ts';
import { expectClose, TOLERANCES } from '../helpers/tolerance.ts';
import { GROUPS } from './grad-cases.ts';

const reference = createReferenceBackend();
const backends = await availableBackends();
afterAll(() => {
  reference.dispose();
  for (const b of backends) b.dispose();
});

for (const backend of backends) {
  describe(`gradient parity on ${backend.name}`, () => {
    for (const [group, cases] of GROUPS) {
      it(`${group}: float32 gradients match the float64 reference for every case`, async () => {
        for (const c of cases) {
          const expected = await analyticGrads(reference, c.fn, c.inputs, 'float64');
          const actual = await analyticGrads(backend, c.fn, c.inputs, 'float32');
          expect(actual.map((g) => g === null)).toEqual(expected.map((g) => g === null));
          expected.forEach((e, i) => {
            if (e !== null) expectClose(actual[i]!, e, TOLERANCES.gradient.float32, `${c.name} input ${i}`);
          });
        }
      });
    }
  });
}
