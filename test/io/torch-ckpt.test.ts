/**
 * @module io/torch-ckpt.test — torch.save's zip format: reading files torch 1.13 wrote
 * (fixtures from test/fixtures/io/make-io-fixtures.py), round trips of ours, torch.load
 * reading ours (through /usr/bin/python3 when torch is installed), and corrupt
 * checkpoints as FormatErrors.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { torchIt, torchLoad } from '../helpers/torch.ts';
import type { Backend } from '../../runtime/backend.ts';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { Tensor, arange, tensor, zeros } from '../../runtime/tensor/index.ts';
import { FormatError } from '../../runtime/io/errors.ts';
import { PyFloat, PyTuple, pickle } from '../../runtime/io/pickle.ts';
import { int64, loadTorch, saveTorch } from '../../runtime/io/torch-ckpt.ts';
import { listZip, readZip, writeZip } from '../../runtime/io/zip.ts';
import { Adam } from '../../runtime/optim/adam.ts';
import { mseLoss } from '../../runtime/nn/functional.ts';
import { BatchNorm1d, Linear, Sequential } from '../../runtime/nn/index.ts';

const backend: Backend = createReferenceBackend();
// Modules allocate on the default backend.
beforeAll(() => setDefaultBackend(backend));
const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../fixtures/io/${name}`, import.meta.url)));
const expected = JSON.parse(readFileSync(new URL('../fixtures/io/expected.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
>;
// Python's int64 and float16 tensors come back as int32 and float32.
const DTYPE_READ: Record<string, string> = {
  int64: 'int32',
  float16: 'float32',
  float32: 'float32',
  float64: 'float64',
  int32: 'int32',
  bool: 'bool',
};

/** A described Python value (see describe() in the python scripts), normalised to what loadTorch returns with dicts: 'map'. */
function fromPython(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(fromPython);
  if (x === null || typeof x !== 'object') return x;
  const o = x as Record<string, unknown>;
  if ('__int__' in o) {
    const b = BigInt(o['__int__'] as string);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  }
  if ('__float__' in o) {
    const r = o['__float__'] as string;
    return r === 'inf' ? Infinity : r === '-inf' ? -Infinity : Number(r);
  }
  if ('__tuple__' in o) return (o['__tuple__'] as unknown[]).map(fromPython);
  if ('__dict__' in o)
    return { dict: (o['__dict__'] as [unknown, unknown][]).map(([k, v]) => [fromPython(k), fromPython(v)]) };
  if ('__tensor__' in o) return { tensor: DTYPE_READ[o['dtype'] as string], shape: o['shape'], values: o['values'] };
  return o;
}

/** Our value in the same normalised form. */
async function fromOurs(x: unknown): Promise<unknown> {
  if (x instanceof Tensor) return { tensor: x.dtype, shape: [...x.shape], values: await x.tolist() };
  if (Array.isArray(x)) return Promise.all(x.map(fromOurs));
  if (x instanceof Map)
    return {
      dict: await Promise.all(
        [...(x as Map<unknown, unknown>)].map(async ([k, v]) => [await fromOurs(k), await fromOurs(v)]),
      ),
    };
  if (x instanceof PyTuple) return Promise.all(x.items.map(fromOurs));
  if (x instanceof PyFloat) return x.value;
  if (typeof x === 'bigint')
    return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
  if (x !== null && typeof x === 'object') {
    return {
      dict: await Promise.all(
        Object.entries(x).map(async ([k, v]) => [/^(0|[1-9]\d*)$/.test(k) ? Number(k) : k, await fromOurs(v)]),
      ),
    };
  }
  return x;
}

async function formatError(p: Promise<unknown>): Promise<FormatError> {
  const caught = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(caught).toBeInstanceOf(FormatError);
  return caught as FormatError;
}

describe('torch-ckpt: reading torch.save files', () => {
  for (const name of ['model-state.pt', 'optimizer.pt', 'nested.pt', 'lightning-like.ckpt']) {
    it(`torch-ckpt: reads ${name} written by torch 1.13 with every value and tensor intact`, async () => {
      const got = await loadTorch(fixture(name), { backend, dicts: 'map' });
      expect(await fromOurs(got)).toEqual(fromPython(expected[name]));
    });
  }

  it('torch-ckpt: a model state dict keeps key order, and int64 num_batches_tracked becomes an int32 0-d tensor', async () => {
    const sd = (await loadTorch(fixture('model-state.pt'), { backend })) as Record<string, Tensor>;
    expect(Object.keys(sd)).toEqual([
      '0.weight',
      '0.bias',
      '1.weight',
      '1.bias',
      '1.running_mean',
      '1.running_var',
      '1.num_batches_tracked',
    ]);
    const n = sd['1.num_batches_tracked']!;
    expect(n.dtype).toBe('int32');
    expect(n.shape).toEqual([]);
    expect(await n.item()).toBe(3);
    expect(sd['0.weight']!.backend).toBe(backend);
    // A state dict torch wrote loads into our module of the same layout.
    const model = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
    model.loadStateDict(sd);
    expect(await model.stateDict().get('0.bias')!.tolist()).toEqual(await sd['0.bias']!.tolist());
  });

  it('torch-ckpt: an optimizer state dict has int state keys (as strings), tuple betas as arrays, float hyper-parameters', async () => {
    const sd = (await loadTorch(fixture('optimizer.pt'), { backend })) as {
      state: Record<string, Record<string, unknown>>;
      param_groups: Record<string, unknown>[];
    };
    expect(Object.keys(sd.state)).toEqual(['0', '1']);
    const step = sd.state['0']!['step'] as Tensor;
    expect(step.shape).toEqual([]);
    expect(await step.item()).toBe(2);
    expect(sd.param_groups[0]!['lr']).toBe(0.001);
    expect(sd.param_groups[0]!['betas']).toEqual([0.9, 0.999]);
    expect(sd.param_groups[0]!['params']).toEqual([0, 1]);
  });

  it('torch-ckpt: views honour storage offsets and strides; one tensor pickled twice is one Tensor', async () => {
    const v = (await loadTorch(fixture('nested.pt'), { backend })) as Record<string, unknown>;
    expect(await (v['transposed'] as Tensor).tolist()).toEqual([
      [0, 4, 8],
      [1, 5, 9],
      [2, 6, 10],
      [3, 7, 11],
    ]);
    expect(await (v['narrowed'] as Tensor).tolist()).toEqual([
      [5, 6],
      [9, 10],
    ]);
    expect(await (v['shared_a'] as Tensor).tolist()).toEqual([2, 3, 4]);
    expect(await (v['shared_b'] as Tensor).tolist()).toEqual([0, 3, 6, 9]);
    expect(v['same1']).toBe(v['same2']);
    expect((v['empty'] as Tensor).shape).toEqual([0, 3]);
    expect(await (v['scalar'] as Tensor).item()).toBe(3.5);
    expect((v['ints'] as unknown[]).slice(-2)).toEqual([2n ** 63n, -(2n ** 70n)]);
    expect(v['int_keys']).toEqual({ 0: 'zero', 5: 'five' });
    expect(v['tuple']).toEqual([1, 'two', [3]]);
  });

  it('torch-ckpt: a Lightning-style checkpoint comes back as plain objects', async () => {
    const ckpt = (await loadTorch(fixture('lightning-like.ckpt'), { backend })) as Record<string, unknown>;
    expect(Object.keys(ckpt)).toEqual([
      'epoch',
      'global_step',
      'pytorch-lightning_version',
      'state_dict',
      'loops',
      'callbacks',
      'optimizer_states',
      'lr_schedulers',
      'hyper_parameters',
    ]);
    expect(ckpt['hyper_parameters']).toEqual({ hidden: 64, lr: 0.001 });
    expect((ckpt['state_dict'] as Record<string, Tensor>)['layer.weight']!.shape).toEqual([2, 3]);
  });
});

describe('torch-ckpt: writing', () => {
  it('torch-ckpt: lays out archive/data.pkl, byteorder, data/N and version as torch does, data 64-byte aligned', async () => {
    const bytes = await saveTorch({ a: tensor([1, 2], { backend }), b: tensor([true], { backend }) });
    const entries = listZip(bytes);
    expect(entries.map((e) => e.name)).toEqual([
      'archive/data.pkl',
      'archive/byteorder',
      'archive/data/0',
      'archive/data/1',
      'archive/version',
    ]);
    for (const e of entries) expect(e.dataOffset % 64).toBe(0);
    const version = entries.find((e) => e.name === 'archive/version')!;
    expect(new TextDecoder().decode(bytes.subarray(version.dataOffset, version.dataOffset + version.size))).toBe('3\n');
  });

  it('torch-ckpt: round-trips containers, every dtype, int64, 0-d, empty and non-contiguous tensors', async () => {
    const base = arange(0, 12, 1, { backend }).reshape([3, 4]);
    const same = tensor([7, 8], { backend });
    const obj = {
      f32: tensor(
        [
          [1.5, -2],
          [3, 4],
        ],
        { backend },
      ),
      f64: tensor([1e-300, 2], { dtype: 'float64', backend }),
      i32: tensor([-5, 7], { dtype: 'int32', backend }),
      bool: tensor([true, false, true], { backend }),
      long: int64(tensor([1, -2, 2 ** 31 - 1], { dtype: 'int32', backend })),
      longScalar: int64(12),
      scalar: tensor(2.5, { backend }),
      empty: zeros([0, 4], { backend }),
      transposed: base.transpose(0, 1),
      same1: same,
      same2: same,
      list: [1, 'two', null, true, new PyTuple([3, 4]), 2n ** 64n, new PyFloat(1), 0.25],
      map: new Map<unknown, unknown>([['k', 1]]),
      undef: undefined,
    };
    const back = (await loadTorch(await saveTorch(obj), { backend })) as Record<string, unknown>;
    const t = (k: string): Tensor => back[k] as Tensor;
    expect(await t('f32').tolist()).toEqual([
      [1.5, -2],
      [3, 4],
    ]);
    expect(t('f64').dtype).toBe('float64');
    expect(await t('f64').tolist()).toEqual([1e-300, 2]);
    expect(t('i32').dtype).toBe('int32');
    expect(await t('i32').tolist()).toEqual([-5, 7]);
    expect(await t('bool').tolist()).toEqual([true, false, true]);
    expect(t('long').dtype).toBe('int32');
    expect(await t('long').tolist()).toEqual([1, -2, 2 ** 31 - 1]);
    expect(t('longScalar').shape).toEqual([]);
    expect(await t('longScalar').item()).toBe(12);
    expect(await t('scalar').item()).toBe(2.5);
    expect(t('empty').shape).toEqual([0, 4]);
    expect(await t('transposed').tolist()).toEqual([
      [0, 4, 8],
      [1, 5, 9],
      [2, 6, 10],
      [3, 7, 11],
    ]);
    expect(back['same1']).toBe(back['same2']);
    expect(back['list']).toEqual([1, 'two', null, true, [3, 4], 2n ** 64n, 1, 0.25]);
    expect(back['map']).toEqual({ k: 1 });
    expect(back['undef']).toBeNull();
  });

  it('torch-ckpt: refuses values it cannot write', async () => {
    await expect(saveTorch({ f: () => 0 })).rejects.toThrow(/saveTorch: cannot save a function at root\.f/);
    await expect(saveTorch({ x: int64(1.5) })).rejects.toThrow(/int64 value at storage 0 is not an integer/);
    await expect(saveTorch({ x: int64(tensor([0.5], { backend })) })).rejects.toThrow(
      /holds a non-integer; expected integers, got 0.5 at flat index 0/,
    );
    const gone = tensor([1], { backend });
    gone.dispose();
    await expect(saveTorch({ gone })).rejects.toThrow(/saveTorch: tensor at root\.gone is disposed/);
  });
});

describe('torch-ckpt: torch.load reads ours', () => {
  torchIt('torch-ckpt: torch.load(weights_only=True) reads a model state dict of ours, tensors equal', async () => {
    const model = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
    const sd = model.stateDict();
    const obj = {
      state_dict: sd,
      epoch: 2,
      global_step: 16,
      tag: 'v',
      flags: [true, null],
      big: 2n ** 40n,
      counts: int64(tensor([3, 4], { dtype: 'int32', backend })),
    };
    const got = torchLoad(await saveTorch(obj));
    expect(got.weights_only).toBe('strict');
    expect(got.audit).toEqual([]);
    expect(got.entries[0]).toBe('archive/data.pkl');
    const py = fromPython(got.value) as { dict: [string, unknown][] };
    const ours = (await fromOurs(obj)) as { dict: [string, unknown][] };
    // torch reads int64 where we wrote int64, so compare the dtype separately.
    const counts = py.dict.find(([k]) => k === 'counts')![1] as { tensor: string };
    expect(
      (got.value as { __dict__: [string, { dtype: string }][] }).__dict__.find(([k]) => k === 'counts')![1].dtype,
    ).toBe('int64');
    counts.tensor = 'int32';
    expect(py).toEqual({
      dict: ours.dict.map(([k, v]) => [k, k === 'counts' ? { tensor: 'int32', shape: [2], values: [3, 4] } : v]),
    });
    // The state dict is an OrderedDict, as torch's own.
    const sdEntry = (got.value as { __dict__: [string, { type: string }][] }).__dict__.find(
      ([k]) => k === 'state_dict',
    )![1];
    expect(sdEntry.type).toBe('OrderedDict');
  });

  torchIt(
    'torch-ckpt: torch.load reads a full checkpoint with floats; the pickle holds only weights_only opcodes and globals',
    async () => {
      const base = arange(0, 6, 1, { backend }).reshape([2, 3]);
      const obj = {
        epoch: 0,
        'pytorch-lightning_version': '2.0.0',
        state_dict: new Map([
          ['w', tensor([[0.1, -0.2, 0.3]], { backend })],
          ['b', tensor(1.25, { dtype: 'float64', backend })],
        ]),
        optimizer_states: [
          {
            state: { 0: { step: 3, exp_avg: tensor([0.5], { backend }) } },
            param_groups: [{ lr: 0.001, betas: new PyTuple([0.9, 0.999]), params: [0] }],
          },
        ],
        hyper_parameters: { lr: new PyFloat(1), hidden: 64, name: 'ünïcødé' },
        view: base.transpose(0, 1),
        mask: tensor([true, false], { backend }),
        ints: tensor([-1, 2], { dtype: 'int32', backend }),
        empty: zeros([0], { backend }),
      };
      const got = torchLoad(await saveTorch(obj));
      expect(got.audit).toEqual([]);
      // torch 1.13's weights_only unpickler has no BINFLOAT; torch >= 2.0 does.
      expect(['strict', 'floats']).toContain(got.weights_only);
      expect(fromPython(got.value)).toEqual(await fromOurs(obj));
      const hp = (got.value as { __dict__: [string, { __dict__: [string, unknown][] }][] }).__dict__.find(
        ([k]) => k === 'hyper_parameters',
      )![1];
      expect(hp.__dict__[0]).toEqual(['lr', { __float__: '1.0' }]);
    },
  );

  torchIt(
    "torch-ckpt: torch's load_state_dict takes our model and Adam state dicts, and torch.load reads a ZIP64 archive of ours",
    async () => {
      const model = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
      const opt = new Adam(model.parameters(), { lr: 1e-3 });
      for (let i = 0; i < 2; i++) {
        opt.zeroGrad();
        mseLoss(
          model.forward(
            tensor(
              [
                [1, 2, 3],
                [4, 5, 6],
              ],
              { backend },
            ),
          ),
          zeros([2, 2], { backend }),
        ).backward();
        opt.step();
      }
      const sd = model.stateDict();
      const bytes = await saveTorch({ state_dict: sd, optimizer: opt.stateDict() });
      const got = torchLoad(bytes, ['--restore']);
      expect(got.audit).toEqual([]);
      expect(got.restored).toBe('ok');
      const weight = (got.value as { __dict__: [string, { __dict__: [string, { values: unknown }][] }][] })
        .__dict__[0]![1].__dict__[0]!;
      expect(weight[0]).toBe('0.weight');
      expect(weight[1].values).toEqual(await sd.get('0.weight')!.tolist());

      // The same records with ZIP64 records on every entry: torch's miniz reader takes them.
      const files = await readZip(bytes);
      const z64 = writeZip(
        [...files].map(([name, data]) => ({ name, data })),
        { zip64: 'always' },
      );
      expect(torchLoad(z64, ['--restore']).restored).toBe('ok');
    },
  );
});

describe('torch-ckpt: bad input', () => {
  it('torch-ckpt: a truncated checkpoint is a FormatError at every cut', async () => {
    const bytes = await saveTorch({ w: tensor([1, 2, 3], { backend }), n: 1 });
    for (let cut = 0; cut < bytes.length; cut += 13) {
      await formatError(loadTorch(bytes.subarray(0, cut), { backend }));
    }
    expect((await formatError(loadTorch(bytes.subarray(0, 100), { backend }))).message).toMatch(
      /^zip: central directory not found/,
    );
  });

  it('torch-ckpt: non-checkpoints, legacy files, bad versions and missing or short storages are FormatErrors', async () => {
    expect(
      (await formatError(loadTorch(writeZip([{ name: 'x.txt', data: new Uint8Array(1) }]), { backend }))).message,
    ).toBe("torch-ckpt: not a torch checkpoint; expected an archive with '<name>/data.pkl', got 'x.txt'");
    expect((await formatError(loadTorch(pickle(1), { backend }))).message).toMatch(
      /^torch-ckpt: legacy torch\.save format/,
    );
    const pkl = await loadPkl(await saveTorch({ w: tensor([1, 2], { backend }) }));
    expect(
      (
        await formatError(
          loadTorch(
            writeZip([
              { name: 'a/data.pkl', data: pkl },
              { name: 'a/version', data: new TextEncoder().encode('9\n') },
            ]),
            { backend },
          ),
        )
      ).message,
    ).toBe("torch-ckpt: unsupported archive version; expected 1 to 3, got '9'");
    expect((await formatError(loadTorch(writeZip([{ name: 'a/data.pkl', data: pkl }]), { backend }))).message).toBe(
      "torch-ckpt: missing storage; expected an entry 'a/data/0', got none",
    );
    expect(
      (
        await formatError(
          loadTorch(
            writeZip([
              { name: 'a/data.pkl', data: pkl },
              { name: 'a/data/0', data: new Uint8Array(7) },
            ]),
            { backend },
          ),
        )
      ).message,
    ).toBe("torch-ckpt: storage 'a/data/0' has the wrong size; expected 2 x 4 = 8 bytes, got 7");
    expect(
      (
        await formatError(
          loadTorch(
            writeZip([
              { name: 'a/data.pkl', data: pkl },
              { name: 'a/byteorder', data: new TextEncoder().encode('big') },
            ]),
            { backend },
          ),
        )
      ).message,
    ).toBe("torch-ckpt: unsupported byte order; expected 'little', got 'big'");
  });

  it('torch-ckpt: int64 values outside int32, and globals outside the allow-list, are FormatErrors', async () => {
    const long = new BigInt64Array([1n, 5_000_000_000n]);
    const bytes = await saveTorch({ w: int64(tensor([1, 2], { dtype: 'int32', backend })) });
    const files = listZip(bytes);
    const rebuilt = writeZip(
      await Promise.all(
        files.map(async (e) => ({
          name: e.name,
          data: e.name.endsWith('data/0')
            ? new Uint8Array(long.buffer)
            : bytes.subarray(e.dataOffset, e.dataOffset + e.size),
        })),
      ),
    );
    expect((await formatError(loadTorch(rebuilt, { backend }))).message).toBe(
      "torch-ckpt: int64 value out of int32 range in 'archive/data/0'; expected values in [-2147483648, 2147483647], got 5000000000 at element 1",
    );
    const evil = Uint8Array.from('\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.', (c) => c.charCodeAt(0));
    expect(
      (await formatError(loadTorch(writeZip([{ name: 'archive/data.pkl', data: evil }]), { backend }))).message,
    ).toMatch(
      /^pickle: global not allowed at byte 2; expected one of \d+ allowed globals \(.*torch\._utils\._rebuild_tensor_v2.*\), got os\.system$/,
    );
  });

  it('torch-ckpt: a view reaching past its storage is a FormatError', async () => {
    const bytes = await saveTorch({ w: tensor([1, 2], { backend }) });
    const entries = listZip(bytes);
    const pklEntry = entries[0]!;
    // Patch the pickled size (2,) to (3,): the last element falls outside the 2-element storage.
    const pkl = bytes.slice(pklEntry.dataOffset, pklEntry.dataOffset + pklEntry.size);
    const at = findSizeTuple(pkl);
    pkl[at] = 3;
    const patched = writeZip(
      entries.map((e) => ({
        name: e.name,
        data: e.name.endsWith('data.pkl') ? pkl : bytes.subarray(e.dataOffset, e.dataOffset + e.size),
      })),
    );
    expect((await formatError(loadTorch(patched, { backend }))).message).toBe(
      "torch-ckpt: tensor reaches past its storage 'archive/data/0'; expected the last element below 2, got element 2 (size [3], stride [1], offset 0)",
    );
  });
});

async function loadPkl(bytes: Uint8Array): Promise<Uint8Array> {
  const e = listZip(bytes)[0]!;
  return bytes.slice(e.dataOffset, e.dataOffset + e.size);
}

/** The byte of `K\x02\x85` (BININT1 2, TUPLE1): the size tuple of a 2-element tensor. */
function findSizeTuple(pkl: Uint8Array): number {
  for (let i = 0; i + 2 < pkl.length; i++) if (pkl[i] === 0x4b && pkl[i + 1] === 2 && pkl[i + 2] === 0x85) return i + 1;
  throw new Error('size tuple not found');
}
