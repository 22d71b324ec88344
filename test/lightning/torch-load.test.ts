/**
 * @module lightning/torch-load.test — torch.load (Debian's python3-torch 1.13) reads the
 * checkpoint our Trainer writes: Lightning's keys, and the state dict's tensors bit for bit.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import { manualSeed } from '../../runtime/random.ts';
import { torchIt, torchLoad } from '../helpers/torch.ts';
import { LitAutoEncoder, digitLoader, tempFolder, useWasmRuntime } from './trainer-helpers.ts';

/** The `{ dict: [[key, value], ...] }` form torch-load-check.py prints, as a Map. */
function dictOf(v: unknown): Map<unknown, unknown> {
  const d = (v as { __dict__: [unknown, unknown][] }).__dict__;
  return new Map(d);
}

describe('torch.load of our Lightning checkpoint', () => {
  beforeAll(async () => {
    await useWasmRuntime();
  });

  torchIt("checkpoint: torch.load reads our .ckpt, with Lightning's keys and the weights bit for bit", async () => {
    const dir = await tempFolder();
    try {
      manualSeed(3);
      const model = new LitAutoEncoder();
      const trainer = new Trainer({
        maxSteps: 4,
        defaultRootDir: dir.path,
        enableProgressBar: false,
        enableModelSummary: false,
        logger: false,
      });
      await trainer.fit(model, digitLoader(64, { batchSize: 16 }));
      const path = trainer.checkpointCallback!.lastModelPath || trainer.checkpointCallback!.bestModelPath;
      expect(path).toMatch(/epoch=0-step=4\.ckpt$/);
      const result = torchLoad(new Uint8Array(await readFile(path.startsWith('/') ? path : join(process.cwd(), path))));
      // torch 1.13's weights_only unpickler lacks BINFLOAT (torch >= 2.0 has it): 'floats'
      // means the audit found only torch's allowed opcodes and globals plus floats.
      expect(['strict', 'floats']).toContain(result.weights_only);
      expect(result.audit).toEqual([]);
      const top = dictOf(result.value);
      for (const key of [
        'epoch',
        'global_step',
        'pytorch-lightning_version',
        'state_dict',
        'loops',
        'callbacks',
        'optimizer_states',
        'lr_schedulers',
      ]) {
        expect(top.has(key), key).toBe(true);
      }
      expect(top.get('global_step')).toEqual({ __int__: '4' });
      const sd = dictOf(top.get('state_dict'));
      const ours = model.stateDict();
      expect([...sd.keys()]).toEqual([...ours.keys()]);
      for (const [k, t] of ours) {
        const theirs = sd.get(k) as { dtype: string; shape: number[]; values: unknown };
        expect(theirs.dtype, k).toBe('float32');
        expect(theirs.shape, k).toEqual([...t.shape]);
        expect(theirs.values, k).toEqual(await t.tolist());
      }
    } finally {
      await dir.cleanup();
    }
  });
});
