/**
 * @module lightning/checkpoint — the dict Lightning writes, in torch's zip + pickle format.
 *
 * Keys: `epoch`, `global_step`, `pytorch-lightning_version`, `state_dict`, `loops`,
 * `callbacks`, `optimizer_states`, `lr_schedulers`, `hparams_name`, `hyper_parameters`,
 * plus `rng_state` (ours: the default generator's seed and offset, for exact resume).
 * Writes go through `Platform.writeFile`, which writes a temporary file and renames it.
 */
import { FormatError } from '../io/errors.ts';
import { loadTorch, saveTorch } from '../io/torch-ckpt.ts';
import { getPlatform } from '../platform.ts';
import { Tensor } from '../tensor/index.ts';
import type { Backend } from '../backend.ts';
import { CheckpointError } from './errors.ts';
import type { LightningModule } from './module.ts';

/** The Lightning version our checkpoints claim to come from (their layout is 2.1's). */
export const LIGHTNING_VERSION = '2.1.0';

/** A loaded checkpoint: Lightning's keys, loosely typed. */
export type CheckpointDict = Record<string, unknown>;

/** Options of `loadFromCheckpoint`. */
export interface LoadFromCheckpointOptions {
  /** Missing/unexpected weights are errors (default true). */
  readonly strict?: boolean;
  /** The backend for the tensors (default: the default backend). */
  readonly backend?: Backend;
}

/**
 * The folder part of a path.
 * @example dirname('a/b/c.ckpt') // 'a/b'
 */
export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : path.slice(0, i);
}

/**
 * Writes `checkpoint` to `path` (creating the folder), atomically.
 * @example await writeCheckpoint('ckpts/last.ckpt', { state_dict: model.stateDict() })
 */
export async function writeCheckpoint(path: string, checkpoint: CheckpointDict): Promise<void> {
  const platform = getPlatform();
  await platform.mkdirp(dirname(path));
  const bytes = await saveTorch(checkpoint, { archiveName: 'archive' });
  await platform.writeFile(path, bytes);
}

/**
 * Reads a checkpoint; a missing, truncated or foreign file is a CheckpointError.
 * @example const ckpt = await readCheckpoint('epoch=0-step=313.ckpt'); ckpt['global_step'] // 313
 */
export async function readCheckpoint(
  path: string,
  options: { readonly backend?: Backend } = {},
): Promise<CheckpointDict> {
  let bytes: Uint8Array;
  try {
    bytes = await getPlatform().readFile(path);
  } catch (e) {
    throw new CheckpointError(
      `checkpoint: cannot read '${path}'; expected an existing .ckpt file, got ${(e as { code?: string }).code ?? String(e)}`,
      { cause: e },
    );
  }
  let value: unknown;
  try {
    value = await loadTorch(bytes, options.backend === undefined ? {} : { backend: options.backend });
  } catch (e) {
    if (e instanceof FormatError || e instanceof RangeError || e instanceof TypeError) {
      throw new CheckpointError(
        `checkpoint: '${path}' is not a readable checkpoint (truncated or not a torch archive); expected torch's zip format, got ${bytes.length} bytes that fail to load: ${(e as Error).message}`,
        { cause: e },
      );
    }
    throw e;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('state_dict' in value)) {
    throw new CheckpointError(
      `checkpoint: '${path}' is a torch file but not a Lightning checkpoint; expected a dict with 'state_dict', got ${Array.isArray(value) ? 'a list' : typeof value === 'object' && value !== null ? `keys ${Object.keys(value).join(', ')}` : typeof value}`,
    );
  }
  return value as CheckpointDict;
}

/** The checkpoint's `state_dict` as a Map of tensors. */
export function stateDictOf(ckpt: CheckpointDict, path: string): Map<string, Tensor> {
  const sd = ckpt['state_dict'];
  const entries: [string, unknown][] =
    sd instanceof Map ? [...(sd as Map<string, unknown>)] : Object.entries(sd as Record<string, unknown>);
  const out = new Map<string, Tensor>();
  for (const [k, v] of entries) {
    if (!(v instanceof Tensor))
      throw new CheckpointError(
        `checkpoint: '${path}' state_dict['${k}'] is not a tensor; expected a Tensor, got ${typeof v}`,
      );
    out.set(k, v);
  }
  return out;
}

/**
 * Builds `cls` with the checkpoint's hyperparameters (merged with `overrides`) and loads the weights.
 * @example const m = await loadModuleFromCheckpoint(LitAutoEncoder, path)
 */
export async function loadModuleFromCheckpoint<T extends LightningModule>(
  cls: new (hparams: Record<string, unknown>) => T,
  path: string,
  overrides: Readonly<Record<string, unknown>> = {},
  options: LoadFromCheckpointOptions = {},
): Promise<T> {
  const ckpt = await readCheckpoint(path, options.backend === undefined ? {} : { backend: options.backend });
  const saved = ckpt['hyper_parameters'];
  const hparams: Record<string, unknown> = {
    ...(typeof saved === 'object' && saved !== null ? (saved as Record<string, unknown>) : {}),
    ...overrides,
  };
  const model = new cls(hparams);
  if (Object.keys(model.hparams).length === 0 && Object.keys(hparams).length > 0) model.saveHyperparameters(hparams);
  model.onLoadCheckpoint?.(ckpt);
  const sd = stateDictOf(ckpt, path);
  try {
    model.loadStateDict(sd, { strict: options.strict ?? true });
  } catch (e) {
    throw new CheckpointError(
      `checkpoint: '${path}' does not fit ${cls.name}; expected its weights, got: ${(e as Error).message}`,
      { cause: e },
    );
  } finally {
    for (const t of sd.values()) t.dispose();
  }
  model.eval();
  return model;
}
