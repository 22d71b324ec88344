/**
 * @module real-checkpoint.test — a checkpoint written by PyTorch Lightning itself
 * (test/interop/check_lightning.py: Lightning 2.6.6, torch 2.11; a Linear 4→3→ReLU→2
 * module with save_hyperparameters, Adam and a StepLR, after 3 steps) read here.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LightningModule } from '../../runtime/lightning/module.ts';
import { readCheckpoint } from '../../runtime/lightning/checkpoint.ts';
import { loopsStateDict, newFitProgress } from '../../runtime/lightning/loops/progress.ts';
import { Sequential } from '../../runtime/nn/containers.ts';
import { Linear } from '../../runtime/nn/linear.ts';
import { ReLU } from '../../runtime/nn/activation.ts';
import { Adam } from '../../runtime/optim/adam.ts';
import { tensor, type Tensor } from '../../runtime/tensor/index.ts';
import { noGrad } from '../../runtime/autograd.ts';
import { useWasmRuntime } from './trainer-helpers.ts';

const FIXTURE = new URL('../fixtures/lightning/', import.meta.url);
const PATH = new URL('real-lightning.ckpt', FIXTURE).pathname;
const expected = JSON.parse(readFileSync(new URL('real-lightning.json', FIXTURE), 'utf8')) as {
  probe: number[];
  output: number[];
  global_step: number;
  lightning: string;
};

class LitSmall extends LightningModule {
  net: Sequential;
  constructor(hparams: Record<string, unknown> = {}) {
    super();
    this.saveHyperparameters(hparams);
    const hidden = (hparams['hidden'] as number | undefined) ?? 3;
    this.net = new Sequential(new Linear(4, hidden), new ReLU(), new Linear(hidden, 2));
  }
  override forward(x: Tensor): Tensor {
    return this.net.forward(x);
  }
  override configureOptimizers(): Adam {
    return new Adam(this.parameters(), { lr: (this.hparams['lr'] as number | undefined) ?? 0.01 });
  }
}

describe('real Lightning checkpoint', () => {
  beforeAll(async () => {
    await useWasmRuntime();
  });

  it('checkpoint: reads the keys Lightning wrote', async () => {
    const ckpt = await readCheckpoint(PATH);
    expect(ckpt['pytorch-lightning_version']).toBe(expected.lightning);
    expect(ckpt['global_step']).toBe(expected.global_step);
    expect(ckpt['hyper_parameters']).toEqual({ hidden: 3, lr: 0.01 });
    const optimizerStates = ckpt['optimizer_states'] as { param_groups: { lr: number }[] }[];
    expect(optimizerStates).toHaveLength(1);
    // StepLR(step_size=2, gamma=0.5) stepped every batch: lr 0.01 → 0.005 after 2 steps.
    expect(optimizerStates[0]!.param_groups[0]!.lr).toBeCloseTo(0.005, 12);
  });

  it("checkpoint: loadFromCheckpoint rebuilds the module with its hparams and gives Lightning's outputs", async () => {
    const model = await LitSmall.loadFromCheckpoint(PATH);
    expect(model.hparams).toEqual({ hidden: 3, lr: 0.01 });
    const probe = tensor(expected.probe).view(2, 4);
    const out = noGrad(() => model.forward(probe));
    const values = Array.from(await out.data());
    values.forEach((v, i) => expect(v).toBeCloseTo(expected.output[i]!, 6));
  });

  it("checkpoint: our loops dict has the shape of Lightning's, so Lightning can resume from ours", async () => {
    const ckpt = await readCheckpoint(PATH);
    // The paths of every leaf, e.g. 'fit_loop/epoch_loop.batch_progress/total/ready'.
    const shape = (v: unknown, prefix = ''): string[] =>
      typeof v === 'object' && v !== null && !Array.isArray(v)
        ? Object.entries(v).flatMap(([k, x]) => shape(x, `${prefix}${k}/`))
        : [prefix];
    const ours = shape(loopsStateDict(newFitProgress())).filter((k) => !k.includes('lightning_ts'));
    const theirs = shape(ckpt['loops']);
    expect(ours.sort()).toEqual(theirs.sort());
  });
});
