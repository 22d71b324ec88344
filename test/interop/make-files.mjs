// Writes files in our formats for the real readers to check (test/interop/check.py):
// TensorBoard event files from TensorBoardLogger, and (when the modules exist) a torch
// checkpoint and a safetensors file. Run after `npm run build:ts`:
//   node test/interop/make-files.mjs <out-dir>
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as lt from '../../dist/bindings/node.js';

const out = process.argv[2] ?? 'interop-out';
await mkdir(out, { recursive: true });
const expected = {};

// TensorBoard: scalars through the logger, plus every summary kind through experiment.
const logger = new lt.TensorBoardLogger({ saveDir: join(out, 'tb') });
for (let step = 0; step < 5; step++) await logger.logMetrics({ train_loss: 1 / (step + 1) }, step);
await logger.logHyperparams({ lr: 0.001, batch_size: 32, name: 'seed' }, { hp_metric: 0.25 });
const ex = logger.experiment;
ex.addScalars('loss', { train: 0.5, val: 0.75 }, 3);
await ex.addHistogram('weights', lt.linspace(-1, 1, 101), 7);
const img = lt.linspace(0, 1, 3 * 4 * 5).reshape([3, 4, 5]);
await ex.addImage('sample', img, 2);
ex.addText('note', 'hello **tensorboard**', 1);
await logger.save();
await logger.finalize('success');
expected.tb = { logDir: logger.logDir, scalars: [1, 0.5, 1 / 3, 0.25, 0.2], histNum: 101, image: [4, 5] };

// torch checkpoint and safetensors, written by runtime/io when present.
const here = new URL('../../dist/runtime/io/', import.meta.url);
if (existsSync(new URL('torch-ckpt.js', here))) {
  const { saveTorch } = await import(new URL('torch-ckpt.js', here).href);
  const model = new lt.nn.Sequential(new lt.nn.Linear(4, 3), new lt.nn.ReLU(), new lt.nn.Linear(3, 2));
  const obj = {
    state_dict: model.stateDict(),
    epoch: 3,
    global_step: 120,
    name: 'seed',
    nested: { list: [1, 2.5, 'x', null, true] },
  };
  await writeFile(join(out, 'model.ckpt'), await saveTorch(obj));
  expected.ckpt = {};
  for (const [k, v] of model.stateDict()) expected.ckpt[k] = { shape: v.shape, values: Array.from(await v.data()) };
}
if (existsSync(new URL('safetensors.js', here))) {
  const { saveSafetensors } = await import(new URL('safetensors.js', here).href);
  const t = new Map([
    ['a', lt.arange(6).float().reshape([2, 3])],
    ['b', lt.tensor([1, 2, 3], { dtype: 'int32' })],
  ]);
  await writeFile(join(out, 'weights.safetensors'), await saveSafetensors(t, { format: 'pt' }));
  expected.safetensors = {
    a: [
      [0, 1, 2],
      [3, 4, 5],
    ],
    b: [1, 2, 3],
  };
}
await writeFile(join(out, 'expected.json'), JSON.stringify(expected, null, 1));
console.log(`interop: wrote ${Object.keys(expected).join(', ')} into ${out}`);
