/**
 * @module lightning/checkpoint-connector — the Trainer's state to a checkpoint dict and back
 * (Lightning's `_CheckpointConnector`): weights, optimizers, schedulers, callbacks, loops,
 * precision, RNG and datamodule state, under Lightning's keys.
 */
import { defaultGenerator } from '../random.ts';
import { Tensor } from '../tensor/index.ts';
import { EarlyStopping } from './callbacks/early-stopping.ts';
import { ModelCheckpoint } from './callbacks/model-checkpoint.ts';
import { LIGHTNING_VERSION, readCheckpoint, stateDictOf, type CheckpointDict } from './checkpoint.ts';
import { CheckpointError, MisconfigurationError } from './errors.ts';
import { fitProgressFromState, loopsStateDict } from './loops/progress.ts';
import type { LightningModule } from './module.ts';
import type { Trainer } from './trainer.ts';

/**
 * The checkpoint dict of the trainer's current state, after the onSaveCheckpoint hooks.
 * @example const ckpt = await dumpCheckpoint(trainer, false); ckpt['global_step'] // 313
 */
export async function dumpCheckpoint(trainer: Trainer, weightsOnly: boolean): Promise<CheckpointDict> {
  const model = trainer.lightningModule;
  if (model === null)
    throw new MisconfigurationError(
      'Trainer.saveCheckpoint: no model attached; expected a call during or after fit, got none',
    );
  const ckpt: CheckpointDict = {
    epoch: trainer.currentEpoch,
    global_step: trainer.globalStep,
    'pytorch-lightning_version': LIGHTNING_VERSION,
    state_dict: trainer.precisionPlugin.checkpointWeights(model.stateDict()),
    loops: loopsStateDict(trainer.progress),
  };
  if (!weightsOnly) {
    const callbacks: Record<string, unknown> = {};
    for (const cb of trainer.callbacks) {
      const s = cb.stateDict();
      if (Object.keys(s).length > 0 || cb instanceof ModelCheckpoint || cb instanceof EarlyStopping)
        callbacks[cb.stateKey] = s;
    }
    ckpt['callbacks'] = callbacks;
    ckpt['optimizer_states'] = trainer.optimizers.map((o) => {
      const sd = o.stateDict();
      return {
        state: new Map(Object.entries(sd.state).map(([k, v]) => [Number(k), v])),
        param_groups: sd.param_groups,
      };
    });
    ckpt['lr_schedulers'] = trainer.lrSchedulerConfigs.map((c) => c.scheduler.stateDict());
    // Lightning 2: the precision plugin's state under its class name ('MixedPrecision'), when it has any.
    const prec = trainer.precisionPlugin.checkpointState();
    if (prec !== null) ckpt[prec[0]] = prec[1];
    ckpt['rng_state'] = { ...defaultGenerator.getState() };
  }
  const hp = model.hparams;
  if (Object.keys(hp).length > 0) {
    ckpt['hparams_name'] = 'kwargs';
    ckpt['hyper_parameters'] = { ...hp };
  }
  if (trainer.datamodule !== null) {
    const s = trainer.datamodule.stateDict();
    if (Object.keys(s).length > 0) ckpt[trainer.datamodule.constructor.name] = s;
  }
  await trainer.hooks.onSaveCheckpoint(ckpt);
  return ckpt;
}

/**
 * The file a `ckptPath` names: a path as given, or 'best'/'last' of the first ModelCheckpoint.
 * @example resolveCkptPath(trainer, 'last') // 'lightning_logs/version_0/checkpoints/last.ckpt'
 */
export function resolveCkptPath(trainer: Trainer, ckptPath: string): string {
  if (ckptPath !== 'best' && ckptPath !== 'last') return ckptPath;
  const cb = trainer.checkpointCallback;
  const p = cb?.resolveCkptPath(ckptPath) ?? '';
  if (p === '') {
    if (ckptPath === 'last' && cb !== null && cb.dirpath !== null) return `${cb.dirpath}/last.ckpt`;
    throw new CheckpointError(
      `Trainer: ckptPath '${ckptPath}' has no checkpoint to point to; expected a ModelCheckpoint that saved one${ckptPath === 'last' ? ' (saveLast: true)' : ' (with a monitor)'}, got none`,
    );
  }
  return p;
}

/**
 * Loads the weights at `path` into `model`; with `full` (resuming fit) also the optimizer,
 * scheduler, callback, loop, precision, RNG and datamodule state.
 * @example await restoreCheckpoint(trainer, model, 'last.ckpt', true)
 */
export async function restoreCheckpoint(
  trainer: Trainer,
  model: LightningModule,
  path: string,
  full: boolean,
): Promise<void> {
  // Straight onto the model's backend (writes are synchronous everywhere), so loading never
  // needs a synchronous read of another backend's tensors.
  const target = trainer.rootBackend;
  const ckpt = await readCheckpoint(path, target === null ? {} : { backend: target });
  await trainer.hooks.onLoadCheckpoint(ckpt);
  const sd = stateDictOf(ckpt, path);
  try {
    model.loadStateDict(sd);
  } catch (e) {
    throw new CheckpointError(
      `Trainer: checkpoint '${path}' does not fit ${model.constructor.name}; expected its weights, got: ${(e as Error).message}`,
      { cause: e },
    );
  } finally {
    for (const t of sd.values()) t.dispose();
  }
  trainer.precisionPlugin.roundParameters(model.parameters());
  if (!full) return;
  trainer.precisionPlugin.loadCheckpointState(ckpt);
  const opt = ckpt['optimizer_states'];
  if (!Array.isArray(opt))
    throw new CheckpointError(
      `Trainer: checkpoint '${path}' has no optimizer_states (saved weights-only?); expected a full checkpoint to resume from, got keys ${Object.keys(ckpt).join(', ')}`,
    );
  if (opt.length !== trainer.optimizers.length)
    throw new CheckpointError(
      `Trainer: checkpoint '${path}' has ${opt.length} optimizer states; expected ${trainer.optimizers.length} (one per optimizer), got ${opt.length}`,
    );
  // torch >= 1.12 saves Adam's `step` as a 0-d tensor; read it here, asynchronously.
  for (const s of opt as { state?: Record<string, Record<string, unknown>> }[]) {
    for (const st of Object.values(s?.state ?? {})) {
      const step = st['step'];
      if (step instanceof Tensor && step.numel() === 1) {
        st['step'] = await step.item();
        step.dispose();
      }
    }
  }
  trainer.optimizers.forEach((o, i) => {
    const s = opt[i] as { state: Record<string, Record<string, unknown>>; param_groups: Record<string, unknown>[] };
    o.loadStateDict(s as never);
    for (const st of Object.values(s.state)) for (const v of Object.values(st)) if (v instanceof Tensor) v.dispose();
  });
  const sch = ckpt['lr_schedulers'];
  if (Array.isArray(sch))
    trainer.lrSchedulerConfigs.forEach((c, i) => {
      if (sch[i] !== undefined) c.scheduler.loadStateDict(sch[i] as Record<string, unknown>);
    });
  const cbs = ckpt['callbacks'];
  if (typeof cbs === 'object' && cbs !== null) {
    for (const cb of trainer.callbacks) {
      const s = (cbs as Record<string, unknown>)[cb.stateKey];
      if (typeof s === 'object' && s !== null) cb.loadStateDict(s as Record<string, unknown>);
    }
  }
  trainer.progress = fitProgressFromState(ckpt['loops'], Number(ckpt['epoch'] ?? 0), Number(ckpt['global_step'] ?? 0));
  const rng = ckpt['rng_state'] as { seed?: unknown; offset?: unknown } | undefined;
  if (rng !== undefined && typeof rng.seed === 'number' && typeof rng.offset === 'number')
    defaultGenerator.setState({ seed: rng.seed, offset: rng.offset });
  if (trainer.datamodule !== null) {
    const s = ckpt[trainer.datamodule.constructor.name];
    if (typeof s === 'object' && s !== null) trainer.datamodule.loadStateDict(s as Record<string, unknown>);
  }
}
