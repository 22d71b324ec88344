/**
 * @module lightning/runs.test — runs that must end well: hyperparameter graphs with cycles or
 * 2^40 paths end at once with a typed error; an empty training set warns in Lightning's words
 * and writes no checkpoint; two loggers started at once reserve different versions; a second
 * Trainer's run during another's is refused with a ConcurrentRunError, leaving the first intact.
 */
import { existsSync, readdirSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { nodeFiles } from '../../bindings/node-fs.ts';
import { setPlatform } from '../../runtime/platform.ts';
import { manualSeed } from '../../runtime/random.ts';
import { ConcurrentRunError, MisconfigurationError } from '../../runtime/lightning/errors.ts';
import { CSVLogger } from '../../runtime/lightning/loggers/csv.ts';
import { MAX_HPARAM_VALUES } from '../../runtime/lightning/loggers/hparams-check.ts';
import { flattenParams, pyStr } from '../../runtime/lightning/loggers/logger.ts';
import { TensorBoardLogger } from '../../runtime/lightning/loggers/tensorboard.ts';
import { toYaml } from '../../runtime/lightning/loggers/yaml.ts';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import type { Tensor } from '../../runtime/tensor/index.ts';
import { digitLoader, LitAutoEncoder, lightningPlatform, tempFolder, useWasmRuntime } from './trainer-helpers.ts';

let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  await useWasmRuntime();
  setPlatform({ ...lightningPlatform, ...nodeFiles });
});
beforeEach(async () => {
  dir = await tempFolder();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await dir.cleanup();
});

const quiet = { enableProgressBar: false, enableModelSummary: false } as const;

/** 40 levels, each an object whose two keys point to the same next object: 2^40 paths. */
function diamond(levels: number): Record<string, unknown> {
  let node: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < levels; i++) node = { a: node, b: node };
  return node;
}

function cyclic(): Record<string, unknown> {
  const cfg: Record<string, unknown> = { lr: 1e-3, layers: [64, 3] };
  cfg['self'] = { parent: cfg };
  return cfg;
}

async function weights(m: LitAutoEncoder): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const p of m.parameters()) out.push(Float32Array.from((await p.data()) as Float32Array));
  return out;
}

describe('hyperparameter graphs', () => {
  it('hparams: a cycle and a 40-level diamond are MisconfigurationErrors from flatten, str and yaml', () => {
    for (const [graph, words] of [
      [cyclic(), /contain a cycle; expected a tree of plain values, got 'self\/parent'/],
      [diamond(40), new RegExp(`too many values; expected at most ${MAX_HPARAM_VALUES} values`)],
    ] as const) {
      expect(() => flattenParams({ cfg: graph })).toThrow(MisconfigurationError);
      expect(() => flattenParams(graph)).toThrow(words);
      expect(() => pyStr(graph)).toThrow(MisconfigurationError);
      expect(() => toYaml(graph)).toThrow(MisconfigurationError);
    }
    // A small shared subtree is fine: it is written once per path, as PyYAML and Lightning do.
    expect(flattenParams({ cfg: diamond(3) })['cfg/a/b/a/leaf']).toBe(1);
  });

  it('hparams: fit with a cyclic or 2^40-path hyperparameter graph ends at once with a MisconfigurationError naming the limit', async () => {
    for (const [graph, words] of [
      [cyclic(), /Trainer\.fit: the hyperparameters contain a cycle/],
      [diamond(40), /Trainer\.fit: the hyperparameters expand to too many values; expected at most 100000/],
    ] as const) {
      for (const logger of [
        new TensorBoardLogger({ saveDir: `${dir.path}/tb` }),
        new CSVLogger({ saveDir: `${dir.path}/csv` }),
      ]) {
        const model = new LitAutoEncoder();
        model.saveHyperparameters({ cfg: graph });
        const trainer = new Trainer({ ...quiet, maxEpochs: 1, logger: [logger] });
        await expect(trainer.fit(model, digitLoader(8, { batchSize: 8 }))).rejects.toThrow(words);
      }
    }
    // Without loggers nothing flattens them: the checkpoint's pickle keeps shared objects once.
    const model = new LitAutoEncoder();
    model.saveHyperparameters({ cfg: diamond(40) });
    await new Trainer({ ...quiet, maxEpochs: 1, logger: false, defaultRootDir: dir.path }).fit(
      model,
      digitLoader(8, { batchSize: 8 }),
    );
    expect(readdirSync(`${dir.path}/checkpoints`)).toEqual(['epoch=0-step=1.ckpt']);
  });
});

describe('an empty training set', () => {
  it("Trainer.fit: an empty train loader warns in Lightning's words, trains 0 steps and writes no checkpoint", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const trainer = new Trainer({ ...quiet, maxEpochs: 2, logger: false, defaultRootDir: dir.path });
    await trainer.fit(new LitAutoEncoder(), digitLoader(0));
    expect(trainer.globalStep).toBe(0);
    expect(trainer.state).toEqual({ fn: 'fit', status: 'finished' });
    expect(warn.mock.calls.map((c) => c[0])).toEqual([
      'lightning-ts: Total length of `DataLoader` across ranks is zero. Please make sure this was your intention.',
      'lightning-ts: `Trainer.fit` stopped: No training batches.',
    ]);
    expect(existsSync(`${dir.path}/checkpoints`)).toBe(false);
  });

  it('Trainer.fit: limitTrainBatches 0 says no training batches once per fit, and a run with no step writes no checkpoint', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const trainer = new Trainer({
      ...quiet,
      maxEpochs: 1,
      limitTrainBatches: 0,
      logger: false,
      defaultRootDir: dir.path,
    });
    await trainer.fit(new LitAutoEncoder(), digitLoader(8));
    await trainer.fit(new LitAutoEncoder(), digitLoader(8));
    expect(warn.mock.calls.map((c) => c[0])).toEqual([
      'lightning-ts: `Trainer.fit` stopped: No training batches.',
      'lightning-ts: `Trainer.fit` stopped: No training batches.',
    ]);
    // Batches that never step (trainingStep returns null) leave global_step at 0: no checkpoint either.
    class Skipping extends LitAutoEncoder {
      override trainingStep(): Tensor {
        return null as unknown as Tensor; // Lightning's "return None to skip the batch"
      }
    }
    await new Trainer({ ...quiet, maxEpochs: 1, logger: false, defaultRootDir: dir.path }).fit(
      new Skipping(),
      digitLoader(8),
    );
    expect(existsSync(`${dir.path}/checkpoints`)).toBe(false);
  });
});

describe('two runs in one process', () => {
  it('RunFolder: two loggers created at once in one save dir reserve version_0 and version_1', async () => {
    const loggers = [
      new TensorBoardLogger({ saveDir: dir.path }),
      new CSVLogger({ saveDir: dir.path }),
      new TensorBoardLogger({ saveDir: dir.path }),
    ];
    const versions = await Promise.all(loggers.map((l) => l.resolveVersion()));
    expect([...versions].sort()).toEqual([0, 1, 2]);
    expect(readdirSync(`${dir.path}/lightning_logs`)).toEqual(['version_0', 'version_1', 'version_2']);
    expect(await new CSVLogger({ saveDir: dir.path }).resolveVersion()).toBe(3);
  });

  it("Trainer: a second fit during another Trainer's fit rejects with ConcurrentRunError; the first ends with the weights it has alone; a third fit then works", async () => {
    const loader = () => digitLoader(16, { batchSize: 8 });
    const options = { ...quiet, maxEpochs: 2, logger: false, enableCheckpointing: false } as const;
    manualSeed(21);
    const first = new LitAutoEncoder();
    const second = new LitAutoEncoder();
    const results = await Promise.allSettled([
      new Trainer(options).fit(first, loader()),
      new Trainer(options).fit(second, loader()),
    ]);
    expect(results[0].status).toBe('fulfilled');
    expect(results[1].status).toBe('rejected');
    const reason = (results[1] as PromiseRejectedResult).reason as Error;
    expect(reason).toBeInstanceOf(ConcurrentRunError);
    expect(reason.message).toMatch(
      /^Trainer\.fit: another Trainer's fit is running in this process; expected one run at a time .* \(await the first run, or run each in its own worker or process\)$/,
    );
    for (const run of [
      (t: Trainer) => t.validate(second, loader()),
      (t: Trainer) => t.test(second, loader()),
      (t: Trainer) => t.predict(second, loader()),
    ]) {
      const busy = new Trainer(options).fit(new LitAutoEncoder(), loader());
      await expect(run(new Trainer(options))).rejects.toThrow(ConcurrentRunError);
      await busy;
    }

    manualSeed(21);
    const alone = new LitAutoEncoder();
    new LitAutoEncoder(); // the same draws as `second` took from the generator
    await new Trainer(options).fit(alone, loader());
    const [a, b] = [await weights(first), await weights(alone)];
    for (let i = 0; i < a.length; i++) expect(Buffer.from(a[i]!.buffer).equals(Buffer.from(b[i]!.buffer))).toBe(true);

    const third = new Trainer(options);
    await third.fit(second, loader());
    expect(third.globalStep).toBe(4);
  });
});
