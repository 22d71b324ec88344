/**
 * @module lightning/progress.test — the progress bar: one line redrawn in place on a TTY (also
 * while validation runs), plain periodic lines otherwise; and the model summary table.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../runtime/tensor/index.ts';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import { ProgressBar } from '../../runtime/lightning/callbacks/progress-bar.ts';
import { humanCount, summarize } from '../../runtime/lightning/callbacks/model-summary.ts';
import {
  LitAutoEncoder,
  LitAutoEncoderVal,
  digitLoader,
  setTTY,
  takeOutput,
  useWasmRuntime,
} from './trainer-helpers.ts';

beforeAll(async () => {
  await useWasmRuntime();
});
beforeEach(() => {
  takeOutput();
});

class WithProgBar extends LitAutoEncoderVal {
  override trainingStep(batch: [Tensor, Tensor], batchIdx: number): Tensor {
    this.log('idx', tensor(batchIdx), { progBar: true });
    return super.trainingStep(batch);
  }
}

const base = { logger: false, enableCheckpointing: false, enableModelSummary: false, numSanityValSteps: 0 } as const;

describe('progress', () => {
  it('ProgressBar: not a TTY, it prints a plain line every tenth of an epoch and one at the end', async () => {
    setTTY(false);
    await new Trainer({ ...base, maxEpochs: 2 }).fit(new WithProgBar(), digitLoader(40, { batchSize: 4 }));
    const out = takeOutput();
    expect(out).not.toContain('\r');
    const lines = out.trimEnd().split('\n');
    expect(lines.length).toBe(20);
    expect(lines[0]).toMatch(/^Epoch 0:  10%\|█ {9}\| 1\/10 \[\d\d:\d\d<\d\d:\d\d, [\d.]+it\/s, loss=[\d.]+, idx=0\]$/);
    expect(lines[9]).toMatch(/^Epoch 0: 100%\|██████████\| 10\/10 /);
    expect(lines[19]).toMatch(/^Epoch 1: 100%/);
  });

  it('ProgressBar: on a TTY it redraws one line with \\r, and validation stays on that line', async () => {
    setTTY(true);
    const bar = new ProgressBar({ refreshMs: 0 });
    await new Trainer({ ...base, maxEpochs: 2, valCheckInterval: 0.5, callbacks: [bar] }).fit(
      new WithProgBar(),
      digitLoader(40, { batchSize: 4 }),
      digitLoader(16, { batchSize: 4 }),
    );
    const out = takeOutput();
    setTTY(false);
    expect(out.split('\n').length - 1).toBe(2); // one finished line per epoch, nothing per step
    expect(out.split('\r').length - 1).toBeGreaterThan(10);
    expect(out).toContain(' Validating 1/4');
    const lastFrame = out.split('\n')[0]!.split('\r').at(-1)!;
    expect(lastFrame).toMatch(/^Epoch 0: 100%\|██████████\| 10\/10 .*loss=.*idx=9\]\s*$/);
  });

  it('ProgressBar: enableProgressBar false prints nothing', async () => {
    setTTY(false);
    await new Trainer({ ...base, maxEpochs: 1, enableProgressBar: false }).fit(
      new LitAutoEncoder(),
      digitLoader(16, { batchSize: 4 }),
    );
    expect(takeOutput()).toBe('');
  });

  it("ModelSummary: Lightning's table for the seed model", () => {
    expect(summarize(new LitAutoEncoder())).toBe(
      [
        '  | Name    | Type       | Params',
        '------------------------------------',
        '0 | encoder | Sequential | 50.4 K',
        '1 | decoder | Sequential | 51.2 K',
        '------------------------------------',
        '101 K     Trainable params',
        '0         Non-trainable params',
        '101 K     Total params',
        '0.407     Total estimated model params size (MB)',
      ].join('\n'),
    );
    expect([
      humanCount(0),
      humanCount(999),
      humanCount(1500),
      humanCount(2_500_000),
      humanCount(123_456_789),
      humanCount(1_234e12),
      humanCount(50_250),
      humanCount(50_150),
      humanCount(99_950),
    ]).toEqual(['0  ', '999  ', '1.5 K', '2.5 M', '123 M', '1,234 T', '50.2 K', '50.1 K', '100.0 K']);
  });
});
