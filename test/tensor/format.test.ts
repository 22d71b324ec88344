/**
 * The printed form against PyTorch's exact strings (torch/_tensor_str.py), on every
 * available backend. Our dtype suffix names the dtype without the `torch.` prefix.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { arange, tensor, zeros, type Tensor } from '../../runtime/index.ts';
import { availableBackends } from '../helpers/backends.ts';

const backends = await availableBackends();
afterAll(() => {
  for (const b of backends) b.dispose();
});

for (const backend of backends) {
  describe(`format on ${backend.name}`, () => {
    beforeEach(() => setDefaultBackend(backend));

    async function printed(t: Tensor): Promise<string> {
      const s = await t.format();
      if (backend.capabilities.syncReadback) expect(t.toString(), 'toString agrees with format()').toBe(s);
      return s;
    }

    it('toString: integral floats print as `1.`, rows align under `tensor(`', async () => {
      expect(
        await printed(
          tensor([
            [1, 2],
            [3, 4],
          ]),
        ),
      ).toBe('tensor([[1., 2.],\n        [3., 4.]])');
      expect(await printed(tensor([1, -2]))).toBe('tensor([ 1., -2.])');
      expect(await printed(tensor([[[1, 2]], [[3, 4]]]))).toBe('tensor([[[1., 2.]],\n\n        [[3., 4.]]])');
    });

    it('toString: other floats print with 4 decimals, padded to one width', async () => {
      expect(await printed(tensor([0.1, 2.5]))).toBe('tensor([0.1000, 2.5000])');
      expect(await printed(tensor([-1.5, 10.25]))).toBe('tensor([-1.5000, 10.2500])');
      expect(await printed(tensor(0.5))).toBe('tensor(0.5000)');
    });

    it('toString: scientific notation when magnitudes span more than 1e3 or leave [1e-4, 1e8)', async () => {
      expect(await printed(tensor([1e-5, 1]))).toBe('tensor([1.0000e-05, 1.0000e+00])');
      expect(await printed(tensor([0.5, 2000]))).toBe('tensor([5.0000e-01, 2.0000e+03])');
      expect(await printed(tensor([1, 2000]))).toBe('tensor([1.0000e+00, 2.0000e+03])');
      expect(await printed(tensor([1, 1000]))).toBe('tensor([   1., 1000.])');
      expect(await printed(tensor([0, 1e8]))).toBe('tensor([        0., 100000000.])');
    });

    it('toString: 0-d tensors, int32 and bool dtypes, empty tensors', async () => {
      expect(await printed(tensor(3))).toBe('tensor(3.)');
      expect(await printed(tensor([1, 2], { dtype: 'int32' }))).toBe('tensor([1, 2], dtype=int32)');
      expect(await printed(tensor([10, -2], { dtype: 'int32' }))).toBe('tensor([10, -2], dtype=int32)');
      expect(await printed(tensor(3, { dtype: 'int32' }))).toBe('tensor(3, dtype=int32)');
      expect(await printed(tensor([true, false]))).toBe('tensor([ True, False])');
      expect(await printed(tensor([]))).toBe('tensor([])');
      expect(await printed(zeros([0, 3]))).toBe('tensor([], size=(0, 3))');
      if (backend.capabilities.dtypes.includes('float64')) {
        expect(await printed(tensor([1, 2], { dtype: 'float64' }))).toBe('tensor([1., 2.], dtype=float64)');
      }
    });

    it('toString: requires_grad=True on leaves and grad_fn=<...Backward0> on op results', async () => {
      const x = tensor([1, 2], { requiresGrad: true });
      expect(await printed(x)).toBe('tensor([1., 2.], requires_grad=True)');
      expect(await printed(x.mul(2))).toBe('tensor([2., 4.], grad_fn=<MulBackward0>)');
      expect(await printed(x.add(x))).toBe('tensor([2., 4.], grad_fn=<AddBackward0>)');
      expect(await printed(x.sum())).toBe('tensor(3., grad_fn=<SumBackward0>)');
      expect(await printed(x.detach())).toBe('tensor([1., 2.])');
    });

    it('toString: long rows wrap at 80 columns and over 1000 elements are summarised with ...', async () => {
      // torch.arange(20.)
      expect(await printed(arange(20).float())).toBe(
        'tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n' +
          '        14., 15., 16., 17., 18., 19.])',
      );
      // torch.arange(1001.)
      expect(await printed(arange(1001).float())).toBe('tensor([   0.,    1.,    2.,  ...,  998.,  999., 1000.])');
      // torch.arange(1000., 3000.).reshape(40, 50)
      expect(await printed(arange(2000).float().add(1000).reshape(40, 50))).toBe(
        'tensor([[1000., 1001., 1002.,  ..., 1047., 1048., 1049.],\n' +
          '        [1050., 1051., 1052.,  ..., 1097., 1098., 1099.],\n' +
          '        [1100., 1101., 1102.,  ..., 1147., 1148., 1149.],\n' +
          '        ...,\n' +
          '        [2850., 2851., 2852.,  ..., 2897., 2898., 2899.],\n' +
          '        [2900., 2901., 2902.,  ..., 2947., 2948., 2949.],\n' +
          '        [2950., 2951., 2952.,  ..., 2997., 2998., 2999.]])',
      );
      // torch.arange(10000.): scientific (the range passes 1e3), 6 items per line.
      expect(await printed(arange(10000).float())).toBe(
        'tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.9970e+03, 9.9980e+03,\n' + '        9.9990e+03])',
      );
    });

    it('toString: a disposed tensor prints as disposed instead of throwing', () => {
      const x = tensor([1]);
      x.dispose();
      expect(x.toString()).toBe('tensor(<disposed>, shape=[1])');
    });
  });
}
