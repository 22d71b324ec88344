/**
 * @module test/inference/load-weights.test — loadWeights reads our .ckpt, a real Lightning .ckpt,
 * a torch state dict and safetensors into a module, and names what does not fit; checkInput names
 * the input and the shape it expected.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkInput,
  FormatError,
  InputError,
  LoadWeightsError,
  loadWeights,
  manualSeed,
  nn,
  StateDictError,
  type Tensor,
  tensor,
} from '../../bindings/inference-node.ts';
import { saveSafetensors } from '../../runtime/io/safetensors.ts';
import { saveTorch } from '../../runtime/io/torch-ckpt.ts';

const FIXTURE = new URL('../fixtures/lightning/', import.meta.url);

function mlp(): nn.Sequential {
  return new nn.Sequential(new nn.Linear(4, 3), new nn.ReLU(), new nn.Linear(3, 2));
}

async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

const x = tensor([
  [0.5, -1, 2, 0.25],
  [1, 0, -0.5, 3],
]);

describe('loadWeights', () => {
  it('loadWeights: our .ckpt, a torch state dict and safetensors give the saved model back', async () => {
    manualSeed(1);
    const source = mlp();
    const want = await values(source.forward(x));
    const sd = Object.fromEntries(source.stateDict());
    const files = {
      ckpt: await saveTorch({
        epoch: 0,
        global_step: 1,
        state_dict: Object.fromEntries([...source.stateDict()].map(([k, v]) => [`model.${k}`, v])),
      }),
      torch: await saveTorch(sd),
      safetensors: await saveSafetensors(sd),
    };
    for (const [format, bytes] of Object.entries(files)) {
      manualSeed(2);
      const target = mlp();
      const result = await loadWeights(target, bytes, format === 'ckpt' ? { prefix: 'model.' } : {});
      expect(result.format).toBe(format);
      expect(target.training).toBe(false);
      const got = await values(target.forward(x));
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
    }
  });

  it("loadWeights: a real Lightning .ckpt ('net.' prefix) runs as Lightning did", async () => {
    const expected = JSON.parse(readFileSync(new URL('real-lightning.json', FIXTURE), 'utf8')) as {
      probe: number[];
      output: number[];
    };
    const net = mlp();
    await loadWeights(net, readFileSync(new URL('real-lightning.ckpt', FIXTURE)), { format: 'ckpt', prefix: 'net.' });
    const got = await values(net.forward(tensor(expected.probe).view(2, 4)));
    got.forEach((v, i) => expect(v).toBeCloseTo(expected.output[i]!, 5));
  });

  it('loadWeights: mismatched shapes and names are a LoadWeightsError listing them', async () => {
    const bytes = await saveTorch(Object.fromEntries(mlp().stateDict()));
    const wide = new nn.Sequential(new nn.Linear(4, 5), new nn.ReLU(), new nn.Linear(5, 2));
    const e = await loadWeights(wide, bytes).catch((error: unknown) => error);
    expect(e).toBeInstanceOf(LoadWeightsError);
    expect(e).toBeInstanceOf(StateDictError);
    expect((e as LoadWeightsError).mismatchedKeys.map((m) => m.key)).toEqual(['0.weight', '0.bias', '2.weight']);
    expect((e as Error).message).toMatch(/size mismatch for 0\.weight; expected \[5, ?4\]/);

    const other = new nn.Sequential(new nn.Linear(4, 3));
    const e2 = (await loadWeights(other, bytes).catch((error: unknown) => error)) as LoadWeightsError;
    expect(e2.unexpectedKeys).toEqual(['2.weight', '2.bias']);
    expect((await loadWeights(other, bytes, { strict: false })).unexpectedKeys).toEqual(['2.weight', '2.bias']);

    await expect(loadWeights(mlp(), bytes, { prefix: 'encoder.' })).rejects.toThrow(/no key starts with the prefix/);
    await expect(loadWeights(mlp(), bytes, { format: 'ckpt' })).rejects.toThrow(
      /no state dict; expected a checkpoint dict/,
    );
  });

  it('loadWeights: bytes of no known format are a FormatError', async () => {
    await expect(loadWeights(mlp(), new TextEncoder().encode('<!doctype html>'))).rejects.toBeInstanceOf(FormatError);
    await expect(loadWeights(mlp(), new Uint8Array(0))).rejects.toThrow(/unknown file format/);
  });
});

describe('checkInput', () => {
  it('checkInput: a wrong shape or dtype is an InputError naming the input and the expected shape', () => {
    const spec = { name: 'images', shape: [null, 784] } as const;
    expect(() => checkInput(tensor([[1, 2, 3]]), spec)).toThrow(
      "input 'images': wrong shape; expected [N, 784], got [1, 3]",
    );
    expect(() => checkInput(tensor([[1, 2, 3]], { dtype: 'int32' }), { name: 'ids', shape: [1, 3] })).toThrow(
      InputError,
    );
    const ok = tensor([[1, 2, 3]]);
    expect(checkInput(ok, { name: 'x', shape: [null, 3] })).toBe(ok);
  });
});
