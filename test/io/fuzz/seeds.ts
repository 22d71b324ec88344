/**
 * @module io/fuzz/seeds — the fuzz corpus: small valid files of every format, made by the
 * project's own writers (saveTorch, saveSafetensors, encodeIdx, gzip, writeZip, pickle),
 * and the seeds read back from test/fixtures/fuzz-corpus and test/fixtures/io.
 */
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../../../runtime/backend.ts';
import { arange, tensor, type Tensor } from '../../../runtime/tensor/index.ts';
import { gzip } from '../../../runtime/io/gzip.ts';
import { encodeIdx } from '../../../runtime/io/idx.ts';
import { PyFloat, PyTuple, pickle } from '../../../runtime/io/pickle.ts';
import { saveSafetensors } from '../../../runtime/io/safetensors.ts';
import { bfloat16, half, int64, saveTorch, type Int64 } from '../../../runtime/io/torch-ckpt.ts';
import { writeZip } from '../../../runtime/io/zip.ts';
import { groupSeeds } from './engine.ts';

/** The corpus files, by name. */
export async function makeCorpus(backend: Backend): Promise<[string, Uint8Array][]> {
  const t = (v: number[] | number[][], dtype: 'float32' | 'float64' | 'int32' | 'bool' = 'float32') =>
    tensor(v, { dtype, backend });
  const base = arange(0, 6, 1, { backend }).reshape([2, 3]);
  const shared = t([1, 2]);
  const idx = encodeIdx({ dtype: 'uint8', shape: [2, 3], data: Uint8Array.from([0, 1, 2, 253, 254, 255]) });
  return [
    ['uint8.idx', idx],
    ['float32.idx', encodeIdx({ dtype: 'float32', shape: [2, 2], data: new Float32Array([1.5, -2, 0, 3]) })],
    ['int16.idx', encodeIdx({ dtype: 'int16', shape: [3], data: new Int16Array([-1, 2, 300]) })],
    ['empty-int32.idx', encodeIdx({ dtype: 'int32', shape: [0, 5], data: new Int32Array(0) })],
    ['idx.gz', await gzip(idx)],
    ['text.gz', await gzip(new TextEncoder().encode('hello gzip '.repeat(20)))],
    [
      'plain.zip',
      writeZip([
        { name: 'a.txt', data: new TextEncoder().encode('alpha') },
        { name: 'dir/b.bin', data: Uint8Array.from({ length: 70 }, (_, i) => i) },
      ]),
    ],
    [
      'zip64.zip',
      writeZip(
        [
          { name: 'x', data: new Uint8Array([1, 2, 3]) },
          { name: 'y', data: new Uint8Array(0) },
        ],
        { zip64: 'always', align: 1 },
      ),
    ],
    [
      'values.pkl',
      pickle({
        n: null,
        b: [true, false],
        i: [0, 255, 65536, -1, 2 ** 40, 2n ** 70n],
        f: [0.5, new PyFloat(1)],
        s: 'ünï',
        t: new PyTuple([1, new PyTuple([2, 3]), new PyTuple([])]),
        m: new Map<unknown, unknown>([
          ['k', [1, 2]],
          [3, 'v'],
        ]),
      }),
    ],
    [
      'shared.pkl',
      (() => {
        const l = [1, 2];
        return pickle([l, l, { a: l }]);
      })(),
    ],
    [
      'model.ckpt',
      await saveTorch({
        epoch: 1,
        global_step: 10,
        'pytorch-lightning_version': '2.0.0',
        state_dict: new Map<string, unknown>([
          [
            'w',
            t([
              [1, 2],
              [3, 4],
            ]),
          ],
          ['b', t([0.5], 'float64')],
          ['n', int64(3)],
          ['m', t([1, 0], 'bool')],
        ]),
        hyper_parameters: { lr: 0.001, hidden: 4 },
        views: {
          tr: base.transpose(0, 1),
          same1: shared,
          same2: shared,
          scalar: tensor(2.5, { backend }),
          empty: t([]),
        },
        halves: [half(t([1, -2])), bfloat16(t([0.25]))],
        optimizer_states: [
          {
            state: { 0: { step: 2, exp_avg: t([0.1, 0.2]) } },
            param_groups: [{ lr: 0.001, betas: new PyTuple([0.9, 0.999]), params: [0] }],
          },
        ],
      }),
    ],
    ['tiny.ckpt', await saveTorch({ w: t([1, 2, 3]), k: 'v' })],
    [
      'model.safetensors',
      await saveSafetensors(
        new Map<string, Tensor | Int64>([
          [
            'w',
            t([
              [1, 2],
              [3, 4],
            ]),
          ],
          ['d', t([0.5], 'float64')],
          ['i', t([-1, 2], 'int32')],
          ['m', t([1, 0], 'bool')],
          ['l', int64(7)],
          ['e', t([])],
        ]),
        { format: 'pt' },
      ),
    ],
    ['one.safetensors', await saveSafetensors({ a: t([1]) })],
  ];
}

/** Writes the corpus into `dir`. */
export async function writeCorpus(dir: string, backend: Backend): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files = await makeCorpus(backend);
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  return files.map(([n]) => n);
}

/** Seeds by target: the committed corpus, the io fixtures, and Python's pickles of every protocol. */
export function loadSeeds(root: string): Map<string, Uint8Array[]> {
  const files: [string, Uint8Array][] = [];
  for (const dir of ['test/fixtures/fuzz-corpus', 'test/fixtures/io']) {
    for (const name of readdirSync(join(root, dir)).sort()) {
      if (/\.(idx|gz|pkl|safetensors|ckpt|pt|zip)$/.test(name))
        files.push([name, new Uint8Array(readFileSync(join(root, dir, name)))]);
    }
  }
  const pickles = JSON.parse(readFileSync(join(root, 'test/fixtures/io/pickles.json'), 'utf8')) as Record<
    string,
    string
  >;
  for (const [k, hex] of Object.entries(pickles))
    files.push([`${k}.pkl`, Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16))]);
  return groupSeeds(files);
}
