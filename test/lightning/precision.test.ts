/**
 * @module lightning/precision.test — the Trainer's precision settings on the seed model:
 * '16-mixed' and 'bf16-mixed' loss curves close to '32-true', overflow skips, the scaler's
 * state in the checkpoint under Lightning 2's 'MixedPrecision' key and restored on resume,
 * 16-bit weights and torch.float16 / bfloat16 checkpoint tensors for the true-half settings.
 */
import { readdirSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualSeed } from '../../runtime/random.ts';
import type { Tensor } from '../../runtime/tensor/index.ts';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import { Callback } from '../../runtime/lightning/callbacks/callback.ts';
import { ModelCheckpoint } from '../../runtime/lightning/callbacks/model-checkpoint.ts';
import type { LightningModule } from '../../runtime/lightning/module.ts';
import { readCheckpoint } from '../../runtime/lightning/checkpoint.ts';
import { NotAvailableYetError } from '../../runtime/lightning/errors.ts';
import { roundToBFloat16, roundToHalf } from '../../runtime/float16.ts';
import { readZipEntry, listZip } from '../../runtime/io/zip.ts';
import { mseLoss } from '../../runtime/nn/loss-functions.ts';
import { LitAutoEncoder, digitLoader, tempFolder, useWasmRuntime } from './trainer-helpers.ts';
import { torchIt, torchLoad } from '../helpers/torch.ts';
import { readFileSync } from 'node:fs';

let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  await useWasmRuntime();
});
beforeEach(async () => {
  dir = await tempFolder();
});
afterEach(async () => {
  await dir.cleanup();
});

const quiet = { enableProgressBar: false, enableModelSummary: false, logger: false } as const;

/** Records each step's loss (read back in the hook, awaited). */
class LossRecorder extends Callback {
  losses: number[] = [];
  override async onTrainBatchEnd(_t: Trainer, _m: LightningModule, outputs: unknown): Promise<void> {
    this.losses.push((await (outputs as Tensor).data())[0]!);
  }
}

async function train(
  precision: string | number,
  steps: number,
  extra: Record<string, unknown> = {},
): Promise<{ losses: number[]; model: LitAutoEncoder; trainer: Trainer }> {
  manualSeed(7);
  const model = new LitAutoEncoder({ lr: 1e-3 });
  const rec = new LossRecorder();
  const trainer = new Trainer({
    ...quiet,
    enableCheckpointing: false,
    maxSteps: steps,
    precision,
    callbacks: [rec],
    defaultRootDir: dir.path,
    ...extra,
  });
  await trainer.fit(model, digitLoader(8 * steps, { batchSize: 8 }));
  return { losses: rec.losses, model, trainer };
}

function maxRelDiff(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / Math.abs(b[i]!)));
}

describe('precision', () => {
  it("precision '16-mixed': the seed model's loss curve stays within 1% of '32-true' (GradScaler steps, none skipped)", async () => {
    const ref = await train('32-true', 6);
    const mixed = await train('16-mixed', 6);
    expect(mixed.losses.length).toBe(6);
    expect(mixed.losses.every(Number.isFinite)).toBe(true);
    expect(maxRelDiff(mixed.losses, ref.losses)).toBeLessThan(0.01);
    // The losses differ (16-bit compute is not float32), so the setting really did something.
    expect(mixed.losses).not.toEqual(ref.losses);
    const scaler = mixed.trainer.precisionPlugin.scaler!;
    expect(scaler.getScale()).toBe(65536);
    expect(scaler.getGrowthTracker()).toBe(6);
  });

  it("precision 'bf16-mixed': within 5% of '32-true', no scaler; the master weights stay float32 (not bfloat16 values)", async () => {
    const ref = await train('32-true', 6);
    const mixed = await train('bf16', 6);
    expect(mixed.trainer.options.precision).toBe('bf16-mixed');
    expect(mixed.trainer.precisionPlugin.scaler).toBe(null);
    expect(maxRelDiff(mixed.losses, ref.losses)).toBeLessThan(0.05);
    const w = Array.from(await mixed.model.encoder.parameters()[0]!.data());
    expect(w.some((v) => roundToBFloat16(v) !== v)).toBe(true);
  });

  it("precision '16-true' / 'bf16-true': the weights hold 16-bit values after every step; the loss stays close to '32-true'", async () => {
    const ref = await train('32-true', 4);
    for (const [p, round, tol] of [
      ['16-true', roundToHalf, 0.02],
      ['bf16-true', roundToBFloat16, 0.1],
    ] as const) {
      const r = await train(p, 4);
      for (const param of r.model.parameters()) {
        const v = Array.from(await param.data());
        expect(
          v.every((x) => round(x) === x),
          `${p}: ${param.shape.join('x')} holds non-16-bit values`,
        ).toBe(true);
      }
      expect(maxRelDiff(r.losses, ref.losses)).toBeLessThan(tol);
    }
  });

  it("precision '16-true': float32 batch tensors reach the step as 16-bit values (Lightning's convert_input); int labels pass", async () => {
    const seen: number[][] = [];
    class Peek extends LitAutoEncoder {
      override trainingStep(batch: [Tensor, Tensor], batchIdx?: number): Tensor {
        seen.push(Array.from(batch[0].dataSync()).slice(0, 200));
        return super.trainingStep(batch, batchIdx);
      }
    }
    manualSeed(2);
    const trainer = new Trainer({ ...quiet, enableCheckpointing: false, maxSteps: 1, precision: '16-true' });
    await trainer.fit(new Peek(), digitLoader(8, { batchSize: 8 }));
    expect(seen[0]!.every((v) => roundToHalf(v) === v)).toBe(true);
    expect(seen[0]!.some((v) => v !== 0 && v !== 1)).toBe(true);
    expect(trainer.precisionPlugin.convertInput([1, 'a'])).toEqual([1, 'a']);
  });

  it("precision '16-mixed': a step with inf gradients is skipped (weights unchanged), the scale halves, global_step still counts", async () => {
    class Overflow extends LitAutoEncoder {
      override trainingStep(batch: [Tensor, Tensor], batchIdx?: number): Tensor {
        const loss = super.trainingStep(batch, batchIdx);
        return batchIdx === 2 ? loss.mul(Infinity) : loss;
      }
    }
    manualSeed(3);
    const model = new Overflow();
    const snapshots: Float32Array[] = [];
    class Snap extends Callback {
      override async onTrainBatchEnd(_t: Trainer, m: LightningModule): Promise<void> {
        snapshots.push(Float32Array.from((await m.parameters()[0]!.data()) as Float32Array));
      }
    }
    const trainer = new Trainer({
      ...quiet,
      enableCheckpointing: false,
      maxSteps: 4,
      precision: '16-mixed',
      callbacks: [new Snap()],
    });
    await trainer.fit(model, digitLoader(32, { batchSize: 8 }));
    expect(trainer.globalStep).toBe(4);
    expect(Buffer.from(snapshots[2]!.buffer).equals(Buffer.from(snapshots[1]!.buffer))).toBe(true);
    expect(Buffer.from(snapshots[3]!.buffer).equals(Buffer.from(snapshots[2]!.buffer))).toBe(false);
    expect(trainer.precisionPlugin.scaler!.getScale()).toBe(32768);
    expect(trainer.precisionPlugin.scaler!.getGrowthTracker()).toBe(1);
  });

  it("precision '16-mixed': with too large a scale the float16 gradients overflow; steps are skipped and the scale backs off until they fit", async () => {
    manualSeed(6);
    const model = new LitAutoEncoder();
    const first = model.parameters()[0]!;
    const snapshots: number[][] = [];
    class Snap extends Callback {
      override async onTrainBatchEnd(_t: Trainer, m: LightningModule): Promise<void> {
        snapshots.push(Array.from(await m.parameters()[0]!.data()));
      }
    }
    const w0 = Array.from(await first.data());
    const trainer = new Trainer({
      ...quiet,
      enableCheckpointing: false,
      maxSteps: 16,
      precision: '16-mixed',
      callbacks: [new Snap()],
    });
    const scaler = trainer.precisionPlugin.scaler!;
    scaler.loadStateDict({
      scale: 2 ** 28,
      growth_factor: 2,
      backoff_factor: 0.5,
      growth_interval: 2000,
      _growth_tracker: 0,
    });
    await trainer.fit(model, digitLoader(128, { batchSize: 8 }));
    // Each skipped step halves the scale; after the first clean step the tracker counts up.
    const skipped = 28 - Math.log2(scaler.getScale());
    expect(skipped).toBeGreaterThanOrEqual(4);
    expect(skipped).toBeLessThan(16);
    expect(scaler.getGrowthTracker()).toBe(16 - skipped);
    expect(trainer.globalStep).toBe(16);
    for (let i = 0; i < skipped; i++) expect(snapshots[i], `step ${i} was skipped`).toEqual(w0);
    expect(snapshots[skipped]).not.toEqual(w0);
  });

  it("precision '16-mixed': the checkpoint stores the scaler under 'MixedPrecision' with torch's keys, and resume restores it", async () => {
    manualSeed(5);
    const model = new LitAutoEncoder();
    const trainer = new Trainer({
      ...quiet,
      maxSteps: 3,
      precision: '16-mixed',
      defaultRootDir: dir.path,
      callbacks: [new ModelCheckpoint({ dirpath: dir.path })],
    });
    trainer.precisionPlugin.scaler!.loadStateDict({
      scale: 1024,
      growth_factor: 2,
      backoff_factor: 0.5,
      growth_interval: 2000,
      _growth_tracker: 10,
    });
    await trainer.fit(model, digitLoader(24, { batchSize: 8 }));
    const file = readdirSync(dir.path).find((f) => f.endsWith('.ckpt'))!;
    const ckpt = await readCheckpoint(`${dir.path}/${file}`);
    expect(ckpt['MixedPrecision']).toEqual({
      scale: 1024,
      growth_factor: 2,
      backoff_factor: 0.5,
      growth_interval: 2000,
      _growth_tracker: 13,
    });

    const resumed = new Trainer({ ...quiet, maxSteps: 3, precision: '16-mixed', enableCheckpointing: false });
    await resumed.fit(new LitAutoEncoder(), digitLoader(24, { batchSize: 8 }), null, {
      ckptPath: `${dir.path}/${file}`,
    });
    const s = resumed.precisionPlugin.scaler!;
    expect([s.getScale(), s.getGrowthTracker()]).toEqual([1024, 13]);
  });

  torchIt(
    "precision '16-mixed': torch.load reads the MixedPrecision entry as torch's GradScaler state (floats and ints)",
    async () => {
      manualSeed(5);
      const trainer = new Trainer({
        ...quiet,
        maxSteps: 1,
        precision: '16-mixed',
        callbacks: [new ModelCheckpoint({ dirpath: dir.path })],
      });
      await trainer.fit(new LitAutoEncoder(), digitLoader(8, { batchSize: 8 }));
      const file = readdirSync(dir.path).find((f) => f.endsWith('.ckpt'))!;
      const r = torchLoad(readFileSync(`${dir.path}/${file}`));
      const top = (r.value as { __dict__: [unknown, unknown][] }).__dict__;
      const entry = top.find(([k]) => k === 'MixedPrecision');
      expect(entry).toBeDefined();
      expect(entry![1]).toEqual({
        __dict__: [
          ['scale', { __float__: '65536.0' }],
          ['growth_factor', { __float__: '2.0' }],
          ['backoff_factor', { __float__: '0.5' }],
          ['growth_interval', { __int__: '2000' }],
          ['_growth_tracker', { __int__: '1' }],
        ],
        type: 'dict',
      });
    },
  );

  it("precision 'bf16-mixed': no 'MixedPrecision' entry (Lightning stores none without a scaler)", async () => {
    manualSeed(5);
    const trainer = new Trainer({
      ...quiet,
      maxSteps: 1,
      precision: 'bf16-mixed',
      callbacks: [new ModelCheckpoint({ dirpath: dir.path })],
    });
    await trainer.fit(new LitAutoEncoder(), digitLoader(8, { batchSize: 8 }));
    const file = readdirSync(dir.path).find((f) => f.endsWith('.ckpt'))!;
    const ckpt = await readCheckpoint(`${dir.path}/${file}`);
    expect('MixedPrecision' in ckpt).toBe(false);
  });

  it("precision '16-true' / 'bf16-true': the checkpoint's weights are HalfStorage / BFloat16Storage, and load back as the same values", async () => {
    for (const [p, storage] of [
      ['16-true', 'HalfStorage'],
      ['bf16-true', 'BFloat16Storage'],
    ] as const) {
      manualSeed(5);
      const model = new LitAutoEncoder();
      const sub = `${dir.path}/${p}`;
      const trainer = new Trainer({
        ...quiet,
        maxSteps: 2,
        precision: p,
        callbacks: [new ModelCheckpoint({ dirpath: sub })],
      });
      await trainer.fit(model, digitLoader(16, { batchSize: 8 }));
      const file = `${sub}/${readdirSync(sub).find((f) => f.endsWith('.ckpt'))!}`;
      const bytes = new Uint8Array(readFileSync(file));
      const pkl = new TextDecoder('latin1').decode(
        await readZipEntry(bytes, listZip(bytes).find((e) => e.name.endsWith('data.pkl'))!),
      );
      expect(pkl).toContain(storage);
      const ckpt = await readCheckpoint(file);
      const sd = ckpt['state_dict'] as Record<string, Tensor>;
      const w = model.parameters()[0]!;
      expect(Array.from(await sd['encoder.0.weight']!.data())).toEqual(Array.from(await w.data()));
    }
  });

  torchIt(
    "precision '16-true': torch.load sees torch.float16 state_dict tensors; 'bf16-true' torch.bfloat16",
    async () => {
      for (const [p, dtype] of [
        ['16-true', 'float16'],
        ['bf16-true', 'bfloat16'],
      ] as const) {
        manualSeed(5);
        const sub = `${dir.path}/${p}`;
        const trainer = new Trainer({
          ...quiet,
          maxSteps: 1,
          precision: p,
          callbacks: [new ModelCheckpoint({ dirpath: sub })],
        });
        await trainer.fit(new LitAutoEncoder(), digitLoader(8, { batchSize: 8 }));
        const file = `${sub}/${readdirSync(sub).find((f) => f.endsWith('.ckpt'))!}`;
        const r = torchLoad(readFileSync(file));
        const top = (r.value as { __dict__: [unknown, unknown][] }).__dict__;
        const sd = top.find(([k]) => k === 'state_dict')![1] as { __dict__: [string, { dtype: string }][] };
        expect(sd.__dict__.map(([, t]) => t.dtype)).toEqual(new Array(8).fill(dtype));
      }
    },
  );

  it('precision: manual optimization with 16-mixed is a NotAvailableYetError naming what is missing', async () => {
    class Manual extends LitAutoEncoder {
      constructor() {
        super();
        this.automaticOptimization = false;
      }
    }
    const trainer = new Trainer({ ...quiet, maxSteps: 1, precision: '16-mixed', enableCheckpointing: false });
    await expect(trainer.fit(new Manual(), digitLoader(8))).rejects.toThrow(NotAvailableYetError);
  });

  it('precision: validation runs under autocast too (val_loss differs from 32-true, finitely)', async () => {
    class Val extends LitAutoEncoder {
      override validationStep(batch: [Tensor, Tensor]): void {
        const x = batch[0].view(batch[0].size(0), -1);
        this.log('val_loss', mseLoss(this.decoder.forward(this.encoder.forward(x)), x));
      }
    }
    const run = async (precision: string): Promise<number> => {
      manualSeed(11);
      const trainer = new Trainer({ ...quiet, enableCheckpointing: false, precision });
      const [m] = await trainer.validate(new Val(), digitLoader(16, { batchSize: 8 }));
      return m!['val_loss']!;
    };
    const a = await run('32-true');
    const b = await run('16-mixed');
    expect(Number.isFinite(b)).toBe(true);
    expect(b).not.toBe(a);
    expect(Math.abs(b - a) / a).toBeLessThan(0.01);
  });
});
