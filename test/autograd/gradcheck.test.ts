/**
 * Every gradient rule of the tensor layer against central finite differences, in float64
 * on the reference backend (the cases live in grad-cases.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';
import { exp, type Tensor } from '../../runtime/index.ts';
import { gradcheck, input } from '../helpers/gradcheck.ts';
import { GROUPS } from './grad-cases.ts';

const backend = createReferenceBackend();
afterAll(() => backend.dispose());

for (const [group, cases] of GROUPS) {
  describe(`gradcheck ${group}`, () => {
    for (const c of cases) {
      it(`${c.name.split(':')[0]}: analytic gradient matches central differences${c.name.includes(':') ? ` (${c.name.slice(c.name.indexOf(':') + 2)})` : ''}`, async () => {
        await gradcheck(backend, c.fn, c.inputs);
      });
    }
  });
}

describe('gradcheck helper', () => {
  it('gradcheck: rejects a wrong gradient rule (exp with a doubled gradient)', async () => {
    const { record } = await import('../../runtime/tensor/index.ts');
    const badExp = (x: Tensor): Tensor => {
      const out = exp(x.detach());
      return record(out, 'BadExp', [x], (g) => [g.mul(out).mul(2)]);
    };
    await expect(gradcheck(backend, (a) => badExp(a!), [input([3], 160)])).rejects.toThrow(
      /analytic .* differs from numeric/,
    );
    await gradcheck(backend, (a) => exp(a!), [input([3], 160)]);
  });
});
