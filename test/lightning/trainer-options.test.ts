/**
 * @module lightning/trainer-options.test — option validation in one place: unknown options,
 * bad values, Lightning 2's removed flags (naming the replacement), and not-yet-available ones.
 */
import { describe, expect, it } from 'vitest';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import { resolveTrainerOptions, limitBatches } from '../../runtime/lightning/trainer-options.ts';
import { MisconfigurationError, NotAvailableYetError } from '../../runtime/lightning/errors.ts';
import { testPlatform } from '../data/setup.ts';
import { setPlatform } from '../../runtime/platform.ts';

setPlatform(testPlatform);

describe('Trainer options', () => {
  it("Trainer options: defaults are Lightning 2's", () => {
    const o = resolveTrainerOptions({});
    expect(o).toMatchObject({
      maxEpochs: 1000,
      minEpochs: 0,
      maxSteps: -1,
      maxTime: null,
      numSanityValSteps: 2,
      accumulateGradBatches: 1,
      gradientClipVal: null,
      gradientClipAlgorithm: 'norm',
      precision: '32-true',
      logEveryNSteps: 50,
      defaultRootDir: '.',
      enableProgressBar: true,
      enableCheckpointing: true,
      enableModelSummary: true,
      checkValEveryNEpoch: 1,
      logger: true,
    });
    expect(resolveTrainerOptions({ maxSteps: 10 }).maxEpochs).toBe(-1);
    expect(resolveTrainerOptions({ maxTime: '00:01:00:00' }).maxTime).toBe(3600e3);
    expect(resolveTrainerOptions({ maxTime: { minutes: 2 } }).maxTime).toBe(120e3);
  });

  it('Trainer options: an unknown option names the known ones; snake_case names its camelCase', () => {
    expect(() => new Trainer({ maxEpoch: 3 } as never)).toThrow(/unknown option 'maxEpoch'; expected one of maxEpochs/);
    expect(() => new Trainer({ max_epochs: 3 } as never)).toThrow(
      /expected 'maxEpochs' \(options use TypeScript casing\)/,
    );
    expect(() => new Trainer({ max_epochs: 3 } as never)).toThrow(MisconfigurationError);
  });

  it('Trainer options: removed flags throw an error naming the replacement', () => {
    expect(() => new Trainer({ gpus: 8 } as never)).toThrow(
      /'gpus' was removed in Lightning 2; expected accelerator: 'gpu' \(WebGPU\) with devices: 1/,
    );
    expect(() => new Trainer({ num_processes: 8 } as never)).toThrow(/strategy: 'ddp' with devices: N/);
    expect(() => new Trainer({ numProcesses: 8 } as never)).toThrow(/strategy: 'ddp'/);
    expect(() => new Trainer({ tpu_cores: 8 } as never)).toThrow(/accelerator.*devices/);
    expect(() => new Trainer({ tpuCores: 8 } as never)).toThrow(/accelerator.*devices/);
    expect(() => new Trainer({ resume_from_checkpoint: 'x.ckpt' } as never)).toThrow(/ckptPath/);
    expect(() => new Trainer({ resumeFromCheckpoint: 'x.ckpt' } as never)).toThrow(/ckptPath/);
  });

  it('Trainer options: capabilities of later releases throw NotAvailableYetError', () => {
    expect(() => new Trainer({ accelerator: 'cuda' })).toThrow(NotAvailableYetError);
    expect(() => new Trainer({ accelerator: 'mps' })).toThrow(
      /GPUs are reached through WebGPU here\); expected 'auto', 'cpu', 'webgpu' or 'gpu', got 'mps'/,
    );
    // DDP arrived (test/lightning/ddp*.test.ts); its spawn/fork variants and WebGPU ranks did not.
    expect(() => new Trainer({ strategy: 'ddp_spawn', devices: 2 })).toThrow(NotAvailableYetError);
    expect(() => new Trainer({ strategy: 'ddp', devices: 2, accelerator: 'webgpu' })).toThrow(NotAvailableYetError);
    for (const p of ['64-true', '64', 'transformer-engine'])
      expect(() => new Trainer({ precision: p })).toThrow(NotAvailableYetError);
    expect(
      () => new Trainer({ accelerator: 'cpu', devices: 1, strategy: 'single_device', precision: '32-true' }),
    ).not.toThrow();
  });

  it("Trainer options: accelerator 'webgpu' and its alias 'gpu' are accepted (the device is requested at fit)", () => {
    expect(resolveTrainerOptions({ accelerator: 'webgpu' }).accelerator).toBe('webgpu');
    expect(resolveTrainerOptions({ accelerator: 'gpu' }).accelerator).toBe('webgpu');
    expect(resolveTrainerOptions({}).accelerator).toBe('auto');
    expect(resolveTrainerOptions({ accelerator: 'webgpu', webgpu: { allowFallbackAdapter: true } }).webgpu).toEqual({
      allowFallbackAdapter: true,
    });
    expect(() => new Trainer({ webgpu: 3 as never })).toThrow(/invalid webgpu/);
  });

  it("Trainer options: precision accepts Lightning 2's names and aliases; an unknown one lists the accepted values", () => {
    const cases: [string | number, string][] = [
      ['32-true', '32-true'],
      ['32', '32-true'],
      [32, '32-true'],
      ['16-mixed', '16-mixed'],
      ['16', '16-mixed'],
      [16, '16-mixed'],
      ['bf16-mixed', 'bf16-mixed'],
      ['bf16', 'bf16-mixed'],
      ['16-true', '16-true'],
      ['bf16-true', 'bf16-true'],
    ];
    for (const [given, resolved] of cases) expect(resolveTrainerOptions({ precision: given }).precision).toBe(resolved);
    for (const bad of ['fp16', '8-mixed', 'half', 15]) {
      expect(() => new Trainer({ precision: bad })).toThrow(MisconfigurationError);
      expect(() => new Trainer({ precision: bad })).not.toThrow(NotAvailableYetError);
    }
    expect(() => new Trainer({ precision: 'fp16' })).toThrow(
      "Trainer: invalid precision; expected one of '32-true', '32', 32, '16-mixed', '16', 16, 'bf16-mixed', 'bf16', '16-true', 'bf16-true', got 'fp16'",
    );
  });

  it('Trainer options: bad values name the option and what it accepts', () => {
    expect(() => new Trainer({ maxEpochs: -5 })).toThrow(/invalid maxEpochs; expected an integer >= -1, got -5/);
    expect(() => new Trainer({ maxEpochs: 'ten' as never })).toThrow(MisconfigurationError);
    expect(() => new Trainer({ limitTrainBatches: 1.5 })).toThrow(/invalid limitTrainBatches/);
    expect(() => new Trainer({ accumulateGradBatches: 0 })).toThrow(/accumulateGradBatches/);
    expect(() => new Trainer({ gradientClipAlgorithm: 'l1' as 'norm' })).toThrow(/gradientClipAlgorithm/);
    expect(() => new Trainer({ valCheckInterval: 0 })).toThrow(/valCheckInterval/);
    expect(() => new Trainer({ accelerator: 'quantum' })).toThrow(/invalid accelerator/);
    expect(() => new Trainer({ logger: 3 as never })).toThrow(/invalid logger/);
    expect(() => new Trainer({ maxTime: '1 hour' })).toThrow(/maxTime/);
    expect(() => new Trainer({ syncBatchnorm: 'yes' as never })).toThrow(
      /Trainer: invalid syncBatchnorm; expected true or false, got 'yes'/,
    );
    expect(() => new Trainer({ sync_batchnorm: true } as never)).toThrow(
      /'syncBatchnorm' \(options use TypeScript casing\)/,
    );
    expect(resolveTrainerOptions({}).syncBatchnorm).toBe(false);
    // As Lightning: on one device the option is accepted and changes nothing.
    expect(resolveTrainerOptions({ syncBatchnorm: true }).syncBatchnorm).toBe(true);
  });

  it('Trainer options: counts and fractions limit batches as Lightning does', () => {
    expect(limitBatches(100, null)).toBe(100);
    expect(limitBatches(100, 10)).toBe(10);
    expect(limitBatches(100, 0.25)).toBe(25);
    expect(limitBatches(5, 10)).toBe(5);
    expect(limitBatches(100, 0)).toBe(0);
  });
});
