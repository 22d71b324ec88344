/**
 * @module lightning/loggers.test — TensorBoardLogger and CSVLogger write
 * Lightning's layout through a node:fs Platform; the event files are read back
 * by the independent reader in test/helpers (CRCs, Event/Summary fields, PNG pixels).
 */
import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tensor } from '../../runtime/tensor/index.ts';
import { histogram } from '../../runtime/io/tfevents.ts';
import { CSVLogger } from '../../runtime/lightning/loggers/csv.ts';
import { hostIdentity } from '../../runtime/lightning/loggers/event-file-writer.ts';
import { LoggerError, sanitizeParams } from '../../runtime/lightning/loggers/logger.ts';
import { pyFloatRepr } from '../../runtime/lightning/loggers/py-format.ts';
import { SummaryWriter } from '../../runtime/lightning/loggers/summary-writer.ts';
import { TensorBoardLogger } from '../../runtime/lightning/loggers/tensorboard.ts';
import { toYaml } from '../../runtime/lightning/loggers/yaml.ts';
import { setPlatform, type Platform } from '../../runtime/platform.ts';
import { tempFolder, testPlatform, useTestRuntime } from '../data/setup.ts';
import {
  decodeHParamsPluginData,
  decodePng,
  eventFiles,
  readEventFile,
  readRun,
  scalars,
} from '../helpers/tfevents-reader.ts';

let dir: { path: string; cleanup: () => Promise<void> };

beforeEach(async () => {
  useTestRuntime();
  dir = await tempFolder();
});

afterEach(async () => {
  setPlatform(testPlatform);
  await dir.cleanup();
});

const text = async (path: string): Promise<string> => (await readFile(path)).toString('utf8');

describe('TensorBoardLogger', () => {
  it('TensorBoardLogger: picks the next version_N and writes lightning_logs/version_N', async () => {
    const root = join(dir.path, 'lightning_logs');
    await mkdir(join(root, 'version_0'), { recursive: true });
    await mkdir(join(root, 'version_2'));
    await mkdir(join(root, 'version_x'));
    await writeFile(join(root, 'notes.txt'), '');
    const logger = new TensorBoardLogger({ saveDir: dir.path });
    expect(() => logger.version).toThrow(LoggerError);
    expect(await logger.resolveVersion()).toBe(3);
    expect(logger.logDir).toBe(`${root}/version_3`);
    expect(await new TensorBoardLogger({ saveDir: join(dir.path, 'absent') }).resolveVersion()).toBe(0);
    const named = new TensorBoardLogger({ saveDir: dir.path, name: 'exp', version: 'run_a' });
    expect(named.logDir).toBe(`${dir.path}/exp/run_a`);
    expect(() => new TensorBoardLogger({ saveDir: dir.path, version: -1 })).toThrow(
      /invalid version; expected a non-negative integer or a folder name, got -1/,
    );
  });

  it('TensorBoardLogger: scalars read back with their tags, steps and values', async () => {
    const logger = new TensorBoardLogger({ saveDir: dir.path });
    for (let step = 0; step < 25; step++)
      await logger.logMetrics({ train_loss: 1 / (step + 1), epoch: Math.floor(step / 10) }, step);
    await logger.finalize('success');
    const files = await eventFiles(logger.logDir);
    expect(files).toHaveLength(1);
    const { hostname, pid } = hostIdentity();
    expect(files[0]).toMatch(new RegExp(`/events\\.out\\.tfevents\\.\\d{10}\\.${hostname}\\.${pid}\\.\\d+$`));
    const events = await readEventFile(files[0]!);
    expect(events[0]!.fileVersion).toBe('brain.Event:2');
    expect(Math.abs(events[0]!.wallTime - Date.now() / 1000)).toBeLessThan(60);
    const loss = scalars(events, 'train_loss');
    expect(loss.map(([s]) => s)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(loss.map(([, v]) => v)).toEqual(Array.from({ length: 25 }, (_, i) => Math.fround(1 / (i + 1))));
    expect(scalars(events, 'epoch').at(-1)).toEqual([24, 2]);
    expect(await text(join(logger.logDir, 'hparams.yaml'))).toBe('{}\n');
  });

  it('TensorBoardLogger: flushes by itself once maxQueue events are queued', async () => {
    const logger = new TensorBoardLogger({ saveDir: dir.path, maxQueue: 3 });
    await logger.logMetrics({ a: 1, b: 2 }, 0);
    await expect(readdir(join(dir.path, 'lightning_logs'))).rejects.toThrow();
    await logger.logMetrics({ c: 3 }, 1);
    expect(scalars(await readRun(logger.logDir), 'c')).toEqual([[1, 3]]);
  });

  it('TensorBoardLogger: hyperparameters go to the hparams plugin and hparams.yaml', async () => {
    const logger = new TensorBoardLogger({ saveDir: dir.path });
    await logger.logHyperparams({ lr: 1e-3, layers: [64, 3], optim: { name: 'adam', amsgrad: false } });
    await logger.finalize('success');
    const events = await readRun(logger.logDir);
    expect(scalars(events, 'hp_metric')).toEqual([[0, -1]]);
    const plugin = events.flatMap((e) => e.values).filter((v) => v.pluginName === 'hparams');
    expect(plugin.map((v) => v.tag)).toEqual([
      '_hparams_/experiment',
      '_hparams_/session_start_info',
      '_hparams_/session_end_info',
    ]);
    const [exp, start, end] = plugin.map((v) => decodeHParamsPluginData(v.pluginContent!));
    expect(exp!.metricTags).toEqual(['hp_metric']);
    expect(start!.hparams).toEqual({ lr: 0.001, layers: '[64, 3]', 'optim/name': 'adam', 'optim/amsgrad': false });
    expect(end!.status).toBe(1);
    expect(await text(join(logger.logDir, 'hparams.yaml'))).toBe(
      'layers:\n- 64\n- 3\nlr: 0.001\noptim:\n  amsgrad: false\n  name: adam\n',
    );
  });

  it('TensorBoardLogger: defaultHpMetric false writes no hparams summaries without metrics', async () => {
    const logger = new TensorBoardLogger({ saveDir: dir.path, defaultHpMetric: false, prefix: 'fit' });
    await logger.logHyperparams({ lr: 0.1 });
    await logger.logMetrics({ loss: 2 }, 5);
    await logger.finalize('success');
    const events = await readRun(logger.logDir);
    expect(events.flatMap((e) => e.values).map((v) => v.tag)).toEqual(['fit-loss']);
  });

  it('TensorBoardLogger: experiment writes histograms, images, text and addScalars runs', async () => {
    const logger = new TensorBoardLogger({ saveDir: dir.path, version: 0 });
    const w = logger.experiment;
    const values = Float32Array.from({ length: 101 }, (_, i) => (i - 50) / 7);
    void w.addHistogram('weights', tensor(values), 7); // not awaited: flush must still include it
    await w.addHistogram('plain', [1, 2, 3], 8);
    // A 3x2x4 CHW float image and a 2x3 uint8 grey one.
    const chw = Float32Array.from({ length: 24 }, (_, i) => i / 23);
    await w.addImage('rgb', tensor(chw).reshape([3, 2, 4]), 1);
    await w.addImage('grey', { data: new Uint8Array([0, 50, 100, 150, 200, 250]), shape: [2, 3] }, 2, {
      dataformats: 'HW',
    });
    w.addText('notes', '# Title\nbody', 3);
    w.addScalars('loss', { train: 0.5, val: 0.75 }, 4);
    await logger.finalize('success');

    const events = await readRun(logger.logDir);
    const byTag = new Map(events.flatMap((e) => e.values.map((v) => [v.tag, { ...v, step: e.step }] as const)));
    expect(byTag.get('weights')!.step).toBe(7);
    expect(byTag.get('weights')!.histo).toEqual(histogram(values));
    expect(byTag.get('plain')!.histo!.num).toBe(3);

    const rgb = byTag.get('rgb')!;
    expect(rgb.image).toMatchObject({ height: 2, width: 4, colorspace: 3 });
    const decoded = await decodePng(rgb.image!.encoded);
    expect(decoded).toMatchObject({ width: 4, height: 2, channels: 3 });
    const expected: number[] = [];
    for (let p = 0; p < 8; p++)
      for (let c = 0; c < 3; c++) expected.push(Math.trunc(Math.fround(chw[c * 8 + p]!) * 255));
    expect(Array.from(decoded.data)).toEqual(expected);
    const grey = await decodePng(byTag.get('grey')!.image!.encoded);
    expect(grey).toMatchObject({ width: 3, height: 2, channels: 1 });
    expect(Array.from(grey.data)).toEqual([0, 50, 100, 150, 200, 250]);

    const note = byTag.get('notes/text_summary')!;
    expect(note).toMatchObject({ step: 3, pluginName: 'text' });
    expect(note.tensor!.stringVal).toEqual(['# Title\nbody']);

    expect(scalars(await readRun(join(logger.logDir, 'loss_train')), 'loss')).toEqual([[4, 0.5]]);
    expect(scalars(await readRun(join(logger.logDir, 'loss_val')), 'loss')).toEqual([[4, 0.75]]);
  });

  it('TensorBoardLogger: addImage checks the layout', async () => {
    const w = new SummaryWriter(dir.path);
    await expect(w.addImage('bad', { data: new Float32Array(10), shape: [5, 2, 1] })).rejects.toThrow(
      /expected 1, 2, 3 or 4 channels in CHW, got shape \[5,2,1\]/,
    );
    await expect(w.addImage('bad', { data: new Float32Array(4), shape: [2, 2] })).rejects.toThrow(
      /wrong rank for CHW; expected 3 dimensions, got shape \[2,2\]/,
    );
    expect(() => w.addScalar('x', 1, 1.5)).toThrow(/step is not an integer/);
  });

  it('TensorBoardLogger: starts a new event file past maxFileBytes, and every event reads back', async () => {
    const logger = new TensorBoardLogger({ saveDir: dir.path, maxFileBytes: 200, maxQueue: 1 });
    for (let step = 0; step < 20; step++) await logger.logMetrics({ metric: step }, step);
    await logger.finalize('success');
    const files = await eventFiles(logger.logDir);
    expect(files.length).toBeGreaterThan(2);
    const events = await readRun(logger.logDir);
    expect(
      scalars(events, 'metric')
        .map(([s]) => s)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(events.filter((e) => e.fileVersion !== undefined)).toHaveLength(files.length);
  });

  it('TensorBoardLogger: appends instead of rewriting where the platform offers appendFile', async () => {
    const appended: number[] = [];
    setPlatform({
      ...testPlatform,
      appendFile: async (path: string, data: Uint8Array) => {
        appended.push(data.length);
        await appendFile(path, data);
      },
    } as Platform);
    const logger = new TensorBoardLogger({ saveDir: dir.path, maxQueue: 1 });
    for (let step = 0; step < 5; step++) await logger.logMetrics({ m: step }, step);
    await logger.finalize('success');
    expect(appended.length).toBe(4); // the first flush creates the file
    expect(scalars(await readRun(logger.logDir), 'm').map(([, v]) => v)).toEqual([0, 1, 2, 3, 4]);
  });

  it('TensorBoardLogger: a write failure is a LoggerError naming the path', async () => {
    await writeFile(join(dir.path, 'blocker'), '');
    const logger = new TensorBoardLogger({ saveDir: join(dir.path, 'blocker'), version: 0 });
    await logger.logMetrics({ a: 1 }, 0);
    await expect(logger.experiment.flush()).rejects.toThrow(
      /event writer: cannot write .*blocker\/lightning_logs\/version_0\/events\.out\.tfevents/,
    );
  });

  it("TensorBoardLogger: reads back in Python's TensorBoard when it is installed", async (ctx) => {
    const probe = (() => {
      try {
        execFileSync('/usr/bin/python3', ['-c', 'import tensorboard'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    if (!probe) {
      // Debian has no python3-tensorboard and CI reaches no other registry, so this runs only where someone installed it by hand.
      ctx.skip(
        'python3 cannot import tensorboard (not packaged in Debian); the independent TS reader covers the format',
      );
      return;
    }
    const logger = new TensorBoardLogger({ saveDir: dir.path });
    await logger.logMetrics({ loss: 0.5 }, 3);
    await logger.experiment.addHistogram('w', [1, 2, 3], 3);
    await logger.experiment.addImage('img', { data: new Uint8Array(12), shape: [3, 2, 2] }, 3);
    logger.experiment.addText('t', 'hello', 3);
    await logger.finalize('success');
    const script = [
      'import sys',
      'from tensorboard.backend.event_processing import event_accumulator as ea',
      'a = ea.EventAccumulator(sys.argv[1], size_guidance={ea.TENSORS: 0})',
      'a.Reload()',
      's = a.Scalars("loss")[0]',
      'assert (s.step, s.value) == (3, 0.5), s',
      'h = a.Histograms("w")[0]',
      'assert h.histogram_value.num == 3, h',
      'i = a.Images("img")[0]',
      'assert (i.width, i.height) == (2, 2), i',
      't = a.Tensors("t/text_summary")[0]',
      'assert t.tensor_proto.string_val[0] == b"hello", t',
      'print("ok")',
    ].join('\n');
    expect(execFileSync('/usr/bin/python3', ['-c', script, logger.logDir]).toString().trim()).toBe('ok');
  });
});

describe('CSVLogger', () => {
  it("CSVLogger: metrics.csv has Lightning's sorted header, one row per call and CRLF lines", async () => {
    const logger = new CSVLogger({ saveDir: dir.path });
    await logger.logHyperparams({ lr: 0.001, batch_size: 32 });
    await logger.logMetrics({ train_loss: 0.5, epoch: 0 }, 0);
    await logger.logMetrics({ train_loss: 0.25, epoch: 0 }, 1);
    await logger.logMetrics({ val_loss: 0.00001, epoch: 0 }, 1);
    await logger.finalize('success');
    expect(logger.logDir).toBe(`${dir.path}/lightning_logs/version_0`);
    expect(await text(join(logger.logDir, 'metrics.csv'))).toBe(
      'epoch,step,train_loss,val_loss\r\n0,0,0.5,\r\n0,1,0.25,\r\n0,1,,1e-05\r\n',
    );
    expect(await text(join(logger.logDir, 'hparams.yaml'))).toBe('batch_size: 32\nlr: 0.001\n');
  });

  it('CSVLogger: rewrites the header when keys appear, and saves every flushLogsEveryNSteps', async () => {
    const logger = new CSVLogger({ saveDir: dir.path, name: 'csv', version: 4, flushLogsEveryNSteps: 2, prefix: 'p' });
    await logger.logMetrics({ a: 1 }, 0);
    await expect(readFile(join(logger.logDir, 'metrics.csv'))).rejects.toThrow();
    await logger.logMetrics({ a: 2 }, 1);
    expect(await text(join(logger.logDir, 'metrics.csv'))).toBe('p-a,step\r\n1.0,0\r\n2.0,1\r\n');
    await logger.logMetrics({ b: 3 }, 2);
    await logger.logMetrics({ a: 4, b: Number.NaN }, 3);
    expect(await text(join(dir.path, 'csv', 'version_4', 'metrics.csv'))).toBe(
      'p-a,p-b,step\r\n1.0,,0\r\n2.0,,1\r\n,3.0,2\r\n4.0,nan,3\r\n',
    );
  });

  it('CSVLogger: step defaults to the row count; versions follow the folder', async () => {
    await mkdir(join(dir.path, 'lightning_logs', 'version_7'), { recursive: true });
    const logger = new CSVLogger({ saveDir: dir.path });
    await logger.logMetrics({ x: 1 });
    await logger.logMetrics({ x: 2 });
    await logger.save();
    expect(logger.version).toBe(8);
    expect(await text(join(logger.logDir, 'metrics.csv'))).toBe('step,x\r\n0,1.0\r\n1,2.0\r\n');
    await expect(logger.logMetrics({ bad: 'x' as unknown as number })).rejects.toThrow(/metric 'bad' is not a number/);
  });

  it("CSVLogger: quotes keys as Python's csv module does", async () => {
    const logger = new CSVLogger({ saveDir: dir.path, version: 0 });
    await logger.logMetrics({ 'a,b': 1, 'say "hi"': 2 }, 0);
    await logger.save();
    expect(await text(join(logger.logDir, 'metrics.csv'))).toBe('"a,b","say ""hi""",step\r\n1.0,2.0,0\r\n');
  });
});

describe('formats', () => {
  it("pyFloatRepr: matches Python's repr(float)", () => {
    const cases: [number, string][] = [
      [1, '1.0'],
      [0.1, '0.1'],
      [-2.5, '-2.5'],
      [1e-4, '0.0001'],
      [1e-5, '1e-05'],
      [1.5e-7, '1.5e-07'],
      [123456789, '123456789.0'],
      [1e15, '1000000000000000.0'],
      [1e16, '1e+16'],
      [1.2345e22, '1.2345e+22'],
      [Math.fround(0.1), '0.10000000149011612'],
      [0, '0.0'],
      [-0, '-0.0'],
      [Number.NaN, 'nan'],
      [-Infinity, '-inf'],
    ];
    for (const [x, s] of cases) expect(pyFloatRepr(x)).toBe(s);
  });

  it("toYaml: writes what PyYAML's dump writes for plain data", () => {
    expect(toYaml({})).toBe('{}\n');
    expect(toYaml({ b: 1, a: 'x' })).toBe('a: x\nb: 1\n');
    expect(toYaml({ lr: 1e-5, big: 1e20, nan: Number.NaN, inf: Infinity, t: true, n: null })).toBe(
      'big: 1.0e+20\ninf: .inf\nlr: 1.0e-05\nn: null\nnan: .nan\nt: true\n',
    );
    expect(toYaml({ s: ['yes', '1', '', 'a: b', "it's", 'line\nbreak'] })).toBe(
      "s:\n- 'yes'\n- '1'\n- ''\n- 'a: b'\n- 'it''s'\n- \"line\\nbreak\"\n",
    );
    expect(toYaml({ nested: { list: [[1, 2], { k: 'v', j: 2 }], empty: [] } })).toBe(
      'nested:\n  empty: []\n  list:\n  - - 1\n    - 2\n  - j: 2\n    k: v\n',
    );
    expect(() => toYaml({ f: () => 1 })).toThrow(/cannot represent the value at f; expected plain data/);
  });

  it('sanitizeParams: flattens with "/" and turns other values into Python strings', () => {
    expect(sanitizeParams({ a: { b: 1, c: { d: 'x' } }, l: [1, 'two', null], n: null, e: {} })).toEqual({
      'a/b': 1,
      'a/c/d': 'x',
      l: "[1, 'two', None]",
      n: 'None',
      e: '{}',
    });
  });
});
