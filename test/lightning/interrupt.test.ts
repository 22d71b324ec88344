/**
 * @module lightning/interrupt.test — Ctrl-C in one process with a fake host interrupt: when the
 * Trainer listens, where a run stops, the exception path it takes, and that the listener is gone
 * after the first interrupt (so a second gets the host's default). Real signals in Node and Deno,
 * with DDP ranks, are in test/ddp/interrupt.test.ts.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nodePlatform } from '../../bindings/node.ts';
import { Callback } from '../../runtime/lightning/callbacks/callback.ts';
import { InterruptedError } from '../../runtime/lightning/errors.ts';
import { INTERRUPT_NOTICE } from '../../runtime/lightning/interrupt.ts';
import { CSVLogger } from '../../runtime/lightning/loggers/csv.ts';
import type { LoggerStatus } from '../../runtime/lightning/loggers/logger.ts';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import { setPlatform } from '../../runtime/platform.ts';
import { manualSeed } from '../../runtime/random.ts';
import {
  LitAutoEncoderVal,
  digitLoader,
  lightningPlatform,
  takeOutput,
  tempFolder,
  useWasmRuntime,
} from './trainer-helpers.ts';

/** The fake host's listeners, and how often an interrupt found none (the host would end the process). */
const listeners = new Set<() => void>();
let defaults = 0;
function pressCtrlC(): void {
  if (listeners.size === 0) defaults++;
  for (const h of [...listeners]) h();
}

let dir: { path: string; cleanup: () => Promise<void> };

class RecordingCSVLogger extends CSVLogger {
  readonly statuses: LoggerStatus[] = [];
  override async finalize(status: LoggerStatus): Promise<void> {
    this.statuses.push(status);
    await super.finalize(status);
  }
}

/** Presses Ctrl-C after training batch `at`; records what onException saw. */
class PressAt extends Callback {
  readonly at: number;
  trained = 0;
  exception: unknown = null;
  listenersInException = -1;
  constructor(at: number) {
    super();
    this.at = at;
  }
  override onTrainBatchEnd(_t: Trainer, _m: unknown, _o: unknown, _b: unknown, batchIdx: number): void {
    this.trained++;
    if (batchIdx === this.at) pressCtrlC();
  }
  override onValidationBatchEnd(_t: Trainer, _m: unknown, _o: unknown, _b: unknown, batchIdx: number): void {
    if (batchIdx === this.at) pressCtrlC();
  }
  override onException(_t: Trainer, _m: unknown, error: unknown): void {
    this.exception = error;
    this.listenersInException = listeners.size;
  }
}

function trainer(options: ConstructorParameters<typeof Trainer>[0] = {}): Trainer {
  return new Trainer({
    maxEpochs: 2,
    enableProgressBar: false,
    enableModelSummary: false,
    enableCheckpointing: false,
    logger: false,
    defaultRootDir: dir.path,
    ...options,
  });
}

beforeAll(async () => {
  await useWasmRuntime();
});
beforeEach(async () => {
  dir = await tempFolder();
  listeners.clear();
  defaults = 0;
  takeOutput();
  setPlatform({
    ...lightningPlatform,
    onInterrupt(handler) {
      listeners.add(handler);
      return () => listeners.delete(handler);
    },
  });
});
afterEach(async () => {
  setPlatform(lightningPlatform);
  await dir.cleanup();
});

describe('interrupt', () => {
  it('interrupt: fit listens only while it runs, and a run without an interrupt ends as before', async () => {
    manualSeed(0);
    let during = -1;
    const probe = new (class extends Callback {
      override onTrainEpochStart(): void {
        during = listeners.size;
      }
    })();
    const t = trainer({ maxEpochs: 1, callbacks: [probe] });
    await t.fit(new LitAutoEncoderVal(), digitLoader(16, { batchSize: 8 }));
    expect(during).toBe(1);
    expect(listeners.size).toBe(0);
    expect(t.interrupt).toBeNull();
    expect(t.state).toEqual({ fn: 'fit', status: 'finished' });
  });

  it('interrupt: the first Ctrl-C stops fit at the next batch: state interrupted, onException and the rejection get one InterruptedError, loggers finalized as failed', async () => {
    manualSeed(0);
    const press = new PressAt(2);
    const logger = new RecordingCSVLogger({ saveDir: dir.path });
    const t = trainer({ callbacks: [press], logger: [logger] });
    const fit = t.fit(new LitAutoEncoderVal(), digitLoader(64, { batchSize: 8 }));
    await expect(fit).rejects.toThrow(InterruptedError);
    const error = await fit.catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /^Trainer\.fit: interrupted \(SIGINT\) at epoch 0, global step 3; expected the run to end on its own, got Ctrl-C/,
    );
    expect(press.trained).toBe(3);
    expect(press.exception).toBe(error);
    expect(t.state).toEqual({ fn: 'fit', status: 'interrupted' });
    expect(logger.statuses).toEqual(['failed']);
    expect(takeOutput().split(INTERRUPT_NOTICE)).toHaveLength(2);
    // The listener was gone before the shutdown ran: a second Ctrl-C gets the host's default.
    expect(press.listenersInException).toBe(0);
    pressCtrlC();
    expect(defaults).toBe(1);
    expect(t.interrupt).toBeNull();
  });

  it('interrupt: validate stops at the next batch and takes the same exception path', async () => {
    manualSeed(0);
    const press = new PressAt(1);
    const t = trainer({ callbacks: [press] });
    const run = t.validate(new LitAutoEncoderVal(), digitLoader(64, { batchSize: 8 }));
    await expect(run).rejects.toThrow(/^Trainer\.validate: interrupted \(SIGINT\)/);
    expect(press.exception).toBeInstanceOf(InterruptedError);
    expect(t.state).toEqual({ fn: 'validate', status: 'interrupted' });
    expect(listeners.size).toBe(0);
  });

  it('interrupt: a Ctrl-C after the last batch lets the run finish, then rejects so the script stops', async () => {
    manualSeed(0);
    const late = new (class extends Callback {
      override onTrainEnd(): void {
        pressCtrlC();
      }
    })();
    const t = trainer({ maxEpochs: 1, callbacks: [late] });
    await expect(t.fit(new LitAutoEncoderVal(), digitLoader(16, { batchSize: 8 }))).rejects.toThrow(InterruptedError);
    expect(t.state).toEqual({ fn: 'fit', status: 'finished' });
    expect(t.globalStep).toBe(2);
  });

  it('interrupt: the Node platform adds one SIGINT listener and its unsubscribe removes it', () => {
    const before = process.listenerCount('SIGINT');
    const stop = nodePlatform.onInterrupt!(() => {});
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    stop();
    expect(process.listenerCount('SIGINT')).toBe(before);
  });
});
