/**
 * @module lightning/hostile-files.test — checkpoint paths from a file are data (a resumed
 * ModelCheckpoint deletes nothing outside its own folder, never through `..`, an absolute path
 * or a link, and never the file fit resumed from); file-system faults in ModelCheckpoint and the
 * loggers are FileSystemErrors naming the component and the path; stale temporary files are
 * swept; last.ckpt is never older than the newest step checkpoint.
 *
 * These suites run over the Node binding's file system (bindings/node-fs.ts), so faults are the
 * real typed ones: ENOTDIR comes from a path under a regular file.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nodeFiles } from '../../bindings/node-fs.ts';
import { tempFileName } from '../../bindings/temp-files.ts';
import { FileSystemError } from '../../runtime/errors.ts';
import { setPlatform } from '../../runtime/platform.ts';
import { manualSeed } from '../../runtime/random.ts';
import { ModelCheckpoint } from '../../runtime/lightning/callbacks/model-checkpoint.ts';
import { readCheckpoint, writeCheckpoint } from '../../runtime/lightning/checkpoint.ts';
import { CSVLogger } from '../../runtime/lightning/loggers/csv.ts';
import { TensorBoardLogger } from '../../runtime/lightning/loggers/tensorboard.ts';
import type { Trainer as TrainerType } from '../../runtime/lightning/trainer.ts';
import { Trainer } from '../../runtime/lightning/trainer.ts';
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
  await dir.cleanup();
});

const quiet = { enableProgressBar: false, enableModelSummary: false } as const;
/** One training batch per epoch, so each epoch is one optimizer step. */
const oneBatch = () => digitLoader(8, { batchSize: 8 });

/** Files outside the checkpoint folder that a hostile checkpoint names; each holds its own name. */
function plantVictims(root: string): string[] {
  mkdirSync(`${root}/outside`, { recursive: true });
  const victims = [
    `${root}/victim-dotdot.ckpt`,
    `${root}/outside/victim-absolute.ckpt`,
    `${root}/outside/link-target.ckpt`,
    `${root}/outside/via-linked-dir.ckpt`,
    `${root}/victim-after-link.ckpt`,
    `${root}/hostile.ckpt.bak`,
  ];
  for (const v of victims) writeFileSync(v, v);
  return victims;
}

function expectVictimsIntact(victims: readonly string[]): void {
  for (const v of victims) {
    expect(existsSync(v), v).toBe(true);
    expect(readFileSync(v, 'utf8')).toBe(v);
  }
}

/** Rewrites the ModelCheckpoint state of the checkpoint at `from` with `state`, to `to`. */
async function tamper(from: string, to: string, key: string, state: Record<string, unknown>): Promise<void> {
  const ckpt = await readCheckpoint(from);
  const callbacks = ckpt['callbacks'] as Record<string, Record<string, unknown>>;
  callbacks[key] = { ...callbacks[key], ...state };
  await writeCheckpoint(to, ckpt);
}

function ckptFiles(folder: string): string[] {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.ckpt'))
    .sort();
}

describe('ModelCheckpoint: paths from a file are data', () => {
  it('ModelCheckpoint: a resumed best_k_models with .., absolute, relative and linked paths deletes nothing outside dirpath over several saves', async () => {
    manualSeed(11);
    const ck = `${dir.path}/ck`;
    const victims = plantVictims(dir.path);
    const options = { dirpath: ck, monitor: 'train_loss', saveTopK: 1, saveLast: true } as const;
    await new Trainer({ ...quiet, maxEpochs: 1, logger: false, callbacks: [new ModelCheckpoint(options)] }).fit(
      new LitAutoEncoder(),
      oneBatch(),
    );
    const [first] = ckptFiles(ck).filter((f) => f !== 'last.ckpt');
    // A link inside dirpath to a file outside, and a linked folder inside dirpath.
    symlinkSync(`${dir.path}/outside/link-target.ckpt`, `${ck}/link.ckpt`);
    symlinkSync(`${dir.path}/outside`, `${ck}/sub`);
    const hostile = {
      [`${ck}/../victim-dotdot.ckpt`]: 1e9,
      [`${dir.path}/outside/victim-absolute.ckpt`]: 1e9,
      '../../victim-relative.ckpt': 1e9,
      [`${ck}/link.ckpt`]: 1e9,
      [`${ck}/sub/via-linked-dir.ckpt`]: 1e9,
      [`${ck}/sub/../victim-after-link.ckpt`]: 1e9,
      [`${dir.path}/hostile.ckpt.bak`]: 1e9,
    };
    const cb = new ModelCheckpoint(options);
    await tamper(`${ck}/${first}`, `${dir.path}/hostile.ckpt`, cb.stateKey, {
      best_k_models: hostile,
      best_model_path: `${dir.path}/outside/victim-absolute.ckpt`,
      kth_best_model_path: `${ck}/../victim-dotdot.ckpt`,
      kth_value: 1e9,
      last_model_path: `${dir.path}/outside/victim-absolute.ckpt`,
    });
    const trainer = new Trainer({ ...quiet, maxEpochs: 10, logger: false, callbacks: [cb] });
    await trainer.fit(new LitAutoEncoder(), oneBatch(), null, { ckptPath: `${dir.path}/hostile.ckpt` });
    expect(trainer.globalStep).toBe(10);
    // Nine saves: each took the place of one hostile entry (a top k loaded larger than k keeps its
    // size, as Lightning's), so none is left, and none reached a file outside dirpath.
    const kept = Object.keys(cb.bestKModels);
    expect(kept.length).toBe(Object.keys(hostile).length);
    for (const k of kept) expect(k.startsWith(`${ck}/epoch=`), k).toBe(true);
    expectVictimsIntact(victims);
    expect(existsSync(`${dir.path}/hostile.ckpt`)).toBe(true);
    // The link itself lived in dirpath, so it may go; what it pointed to stays (checked above).
    expect(existsSync(`${ck}/link.ckpt`)).toBe(false);
    expect(ckptFiles(ck)).toEqual([first!, ...kept.map((k) => k.slice(ck.length + 1)), 'last.ckpt'].sort());
  });

  it('ModelCheckpoint: a resumed best_model_path outside dirpath survives, and so does the checkpoint fit resumed from', async () => {
    manualSeed(12);
    const ck = `${dir.path}/ck`;
    const victims = plantVictims(dir.path);
    await new Trainer({ ...quiet, maxEpochs: 1, logger: false, callbacks: [new ModelCheckpoint({ dirpath: ck })] }).fit(
      new LitAutoEncoder(),
      oneBatch(),
    );
    expect(ckptFiles(ck)).toEqual(['epoch=0-step=1.ckpt']);
    // A legitimate resume: the next save replaces the best, and must not delete the resumed file.
    const cb = new ModelCheckpoint({ dirpath: ck });
    await new Trainer({ ...quiet, maxEpochs: 3, logger: false, callbacks: [cb] }).fit(
      new LitAutoEncoder(),
      oneBatch(),
      null,
      { ckptPath: `${ck}/epoch=0-step=1.ckpt` },
    );
    // epoch=1-step=2 was this run's own and left the top 1; the resumed one stays.
    expect(ckptFiles(ck)).toEqual(['epoch=0-step=1.ckpt', 'epoch=2-step=3.ckpt']);
    // A hostile best_model_path: monitor-less top 1 deletes the previous best at the next save.
    for (const victim of [`${ck}/../victim-dotdot.ckpt`, `${dir.path}/outside/victim-absolute.ckpt`]) {
      const hostileCb = new ModelCheckpoint({ dirpath: ck });
      await tamper(`${ck}/epoch=2-step=3.ckpt`, `${dir.path}/hostile.ckpt`, hostileCb.stateKey, {
        best_model_path: victim,
      });
      await new Trainer({ ...quiet, maxEpochs: 4, logger: false, callbacks: [hostileCb] }).fit(
        new LitAutoEncoder(),
        oneBatch(),
        null,
        { ckptPath: `${dir.path}/hostile.ckpt` },
      );
      expectVictimsIntact(victims);
    }
  });
});

describe('file-system faults name the component and the path', () => {
  async function faultOf(run: Promise<unknown>): Promise<FileSystemError> {
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FileSystemError);
    return error as FileSystemError;
  }

  it('ModelCheckpoint: a dirpath under a regular file fails fit with a FileSystemError ENOTDIR starting ModelCheckpoint: and naming the path', async () => {
    writeFileSync(`${dir.path}/blocker`, '');
    const ck = `${dir.path}/blocker/ck`;
    const trainer = new Trainer({
      ...quiet,
      maxEpochs: 1,
      logger: false,
      callbacks: [new ModelCheckpoint({ dirpath: ck })],
    });
    const error = await faultOf(trainer.fit(new LitAutoEncoder(), oneBatch()));
    expect(error.code).toBe('ENOTDIR');
    expect(error.message.startsWith('ModelCheckpoint:')).toBe(true);
    expect(error.message).toContain(ck);
    expect(error.path).toBe(ck);
  });

  it('TensorBoardLogger and CSVLogger: a save dir under a regular file fails fit with a FileSystemError naming the logger and the path', async () => {
    writeFileSync(`${dir.path}/blocker`, '');
    const saveDir = `${dir.path}/blocker/logs`;
    for (const [name, logger] of [
      ['TensorBoardLogger', new TensorBoardLogger({ saveDir })],
      ['CSVLogger', new CSVLogger({ saveDir })],
      ['TensorBoardLogger', new TensorBoardLogger({ saveDir, version: 0 })],
      ['CSVLogger', new CSVLogger({ saveDir, version: 0 })],
    ] as const) {
      const trainer = new Trainer({ ...quiet, maxEpochs: 1, logger: [logger], enableCheckpointing: false });
      const error = await faultOf(trainer.fit(new LitAutoEncoder(), oneBatch()));
      expect(error.code).toBe('ENOTDIR');
      expect(error.message.startsWith(`${name}:`), error.message).toBe(true);
      expect(error.message).toContain(saveDir);
      expect(error.path.startsWith(saveDir)).toBe(true);
    }
  });

  it('ModelCheckpoint and CSVLogger: stale temporary files of our naming are swept before the first write; others stay', async () => {
    const ck = `${dir.path}/ck`;
    const logDir = `${dir.path}/logs/lightning_logs/version_0`;
    mkdirSync(ck, { recursive: true });
    mkdirSync(logDir, { recursive: true });
    // Written by this process and not in flight: its writer is gone, as after a kill.
    const stale = [`${ck}/${tempFileName('epoch=0-step=1.ckpt', process.pid, 99_999)}`];
    stale.push(`${logDir}/${tempFileName('metrics.csv', process.pid, 99_998)}`);
    for (const s of stale) writeFileSync(s, 'partial');
    writeFileSync(`${ck}/.notes.lts-tmp.txt`, 'not ours');
    await new Trainer({
      ...quiet,
      maxEpochs: 1,
      logger: [new CSVLogger({ saveDir: `${dir.path}/logs`, version: 0 })],
      callbacks: [new ModelCheckpoint({ dirpath: ck })],
    }).fit(new LitAutoEncoder(), oneBatch());
    for (const s of stale) expect(existsSync(s), s).toBe(false);
    expect(readdirSync(ck).sort()).toEqual(['.notes.lts-tmp.txt', 'epoch=0-step=1.ckpt']);
    expect(readdirSync(logDir)).toEqual(['hparams.yaml']);
  });
});

describe('ModelCheckpoint: last.ckpt', () => {
  /** After each of its own saves, compares last.ckpt's global_step with the newest step file's. */
  class CheckingCheckpoint extends ModelCheckpoint {
    readonly seen: { last: number; newest: number; trainer: number }[] = [];

    async #check(trainer: TrainerType): Promise<void> {
      const dirpath = this.dirpath!;
      if (!existsSync(`${dirpath}/last.ckpt`)) return;
      const steps = ckptFiles(dirpath)
        .filter((f) => f !== 'last.ckpt')
        .map((f) => Number(/step=(\d+)/.exec(f)?.[1] ?? -1));
      const last = Number((await readCheckpoint(`${dirpath}/last.ckpt`))['global_step']);
      this.seen.push({ last, newest: Math.max(...steps), trainer: trainer.globalStep });
    }

    override async onTrainBatchEnd(trainer: TrainerType): Promise<void> {
      await super.onTrainBatchEnd(trainer);
      if (this.everyNTrainSteps > 0) await this.#check(trainer);
    }

    override async onTrainEpochEnd(trainer: TrainerType): Promise<void> {
      await super.onTrainEpochEnd(trainer);
      await this.#check(trainer);
    }
  }

  it('ModelCheckpoint: after each save the global_step in last.ckpt equals the newest step file', async () => {
    manualSeed(13);
    const cb = new CheckingCheckpoint({ dirpath: `${dir.path}/ck`, saveTopK: -1, saveLast: true, everyNTrainSteps: 1 });
    await new Trainer({ ...quiet, maxEpochs: 2, logger: false, callbacks: [cb] }).fit(
      new LitAutoEncoder(),
      digitLoader(24, { batchSize: 8 }),
    );
    expect(cb.seen.length).toBeGreaterThanOrEqual(6);
    for (const s of cb.seen) {
      expect(s.last).toBe(s.newest);
      expect(s.last).toBe(s.trainer);
    }
  });

  it('ModelCheckpoint: when the top k skips a step, last.ckpt is still written and is the newest', async () => {
    manualSeed(14);
    // mode 'max' on a falling loss: after the first save the top 1 never takes a step again.
    const cb = new CheckingCheckpoint({
      dirpath: `${dir.path}/ck`,
      monitor: 'train_loss',
      mode: 'max',
      saveLast: true,
    });
    await new Trainer({ ...quiet, maxEpochs: 4, logger: false, callbacks: [cb] }).fit(new LitAutoEncoder(), oneBatch());
    expect(cb.seen.length).toBe(4);
    for (const s of cb.seen) {
      expect(s.last).toBe(s.trainer);
      expect(s.last).toBeGreaterThanOrEqual(s.newest);
    }
  });
});
