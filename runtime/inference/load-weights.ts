/**
 * @module inference/load-weights — loads a checkpoint's or a weights file's tensors into a module.
 *
 * Four containers, told apart by their bytes unless `format` says which:
 * - our `.ckpt` and a Lightning `.ckpt`: a torch zip archive holding a dict with `state_dict`;
 * - a `torch.save(model.state_dict())` file: a torch zip archive holding the state dict itself;
 * - `.safetensors`: an 8-byte header length, then a JSON header starting with `{`.
 * Everything else in a checkpoint (optimizer states, loops, callbacks) is read, then freed.
 * The readers treat the bytes as hostile (runtime/io/); the module's own `loadStateDict` copies
 * the tensors in place and names every missing, unexpected or mis-shaped key.
 */
import type { BytesInput } from '../io/bytes.ts';
import { toBytes } from '../io/bytes.ts';
import { FormatError } from '../io/errors.ts';
import { loadSafetensors } from '../io/safetensors.ts';
import { loadTorch } from '../io/torch-ckpt.ts';
import { type Module, StateDictError } from '../nn/module.ts';
import { Tensor } from '../tensor/index.ts';

/** The containers {@link loadWeights} reads; `'auto'` tells them apart by their bytes. */
export type WeightsFormat = 'auto' | 'ckpt' | 'torch' | 'safetensors';

/**
 * Options of {@link loadWeights}.
 * @example await loadWeights(encoder, bytes, { prefix: 'encoder.' })
 */
export interface LoadWeightsOptions {
  /** Which container the bytes are (default `'auto'`: read from their first bytes). */
  readonly format?: WeightsFormat;
  /**
   * Only keys starting with `prefix` are loaded, with `prefix` removed (default `''`: every key).
   * A Lightning module that holds the network as `self.model` saves `model.0.weight`: pass
   * `'model.'` to load it into the bare network; `'encoder.'` loads a sub-model alone.
   */
  readonly prefix?: string;
  /** Missing and unexpected keys are errors (default true). A shape mismatch always is. */
  readonly strict?: boolean;
}

/** What {@link loadWeights} did. */
export interface LoadWeightsResult {
  /** The container it read. */
  readonly format: Exclude<WeightsFormat, 'auto'>;
  /** Keys of the module the file did not have (empty when strict). */
  readonly missingKeys: readonly string[];
  /** Keys of the file (after the prefix) the module does not have (empty when strict). */
  readonly unexpectedKeys: readonly string[];
}

/**
 * The weights do not fit the module: keys missing or unexpected (strict), shapes that differ, or
 * a file without a state dict. Lists every problem at once; a `StateDictError`, so code that
 * catches those catches this.
 * @example
 * try { await loadWeights(model, bytes); } catch (e) { if (e instanceof LoadWeightsError) console.log(e.mismatchedKeys); }
 */
export class LoadWeightsError extends StateDictError {}

/**
 * Loads the tensors of a checkpoint, a torch state dict or a safetensors file into `module`
 * (in place, on the module's backend) and puts the module in eval mode.
 * @example
 * const model = new nn.Sequential(new nn.Linear(784, 64), new nn.ReLU(), new nn.Linear(64, 3));
 * await loadWeights(model, ckptBytes, { prefix: 'encoder.' });
 * const z = model.forward(tensor(images)); // [N, 3]
 */
export async function loadWeights(
  module: Module,
  input: BytesInput,
  options: LoadWeightsOptions = {},
): Promise<LoadWeightsResult> {
  const requested = options.format ?? 'auto';
  if (!['auto', 'ckpt', 'torch', 'safetensors'].includes(requested)) {
    throw new LoadWeightsError(
      `loadWeights: unknown format; expected 'auto', 'ckpt', 'torch' or 'safetensors', got ${JSON.stringify(requested)}`,
      { missingKeys: [], unexpectedKeys: [], mismatchedKeys: [] },
    );
  }
  const bytes = toBytes(input, 'loadWeights');
  const container = requested === 'auto' ? sniff(bytes) : requested;
  const loaded: Tensor[] = [];
  try {
    let state: Map<string, Tensor>;
    let format: Exclude<WeightsFormat, 'auto'>;
    if (container === 'safetensors') {
      state = loadSafetensors(bytes).tensors;
      loaded.push(...state.values());
      format = 'safetensors';
    } else {
      const root = await loadTorch(bytes);
      collectTensors(root, loaded);
      ({ state, format } = stateDictOf(root, container));
    }
    const selected = selectPrefix(state, options.prefix ?? '');
    let result: { missingKeys: string[]; unexpectedKeys: string[] };
    try {
      result = module.loadStateDict(selected, { strict: options.strict ?? true });
    } catch (error) {
      if (!(error instanceof StateDictError)) throw error;
      throw new LoadWeightsError(`loadWeights (${format}): ${error.message}`, {
        missingKeys: error.missingKeys,
        unexpectedKeys: error.unexpectedKeys,
        mismatchedKeys: error.mismatchedKeys,
      });
    }
    module.eval();
    return { format, missingKeys: result.missingKeys, unexpectedKeys: result.unexpectedKeys };
  } finally {
    for (const t of loaded) if (!t.isDisposed) t.dispose();
  }
}

/** 'safetensors' when the bytes start with a plausible header length and `{`; else a torch archive. */
function sniff(bytes: Uint8Array): 'safetensors' | 'torch' {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)
    return 'torch';
  if (bytes.length >= 9 && bytes[8] === 0x7b) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
    const length = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
    if (length >= 2 && length <= bytes.length - 8) return 'safetensors';
  }
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new FormatError(
    `loadWeights: unknown file format; expected a torch zip archive (.ckpt, torch.save: 50 4b 03 04) or safetensors (8-byte length, then '{'), got ${bytes.length === 0 ? 'no bytes' : `${head}…, ${bytes.length} bytes`}`,
  );
}

/** The state dict inside what loadTorch returned, and which kind of file held it. */
function stateDictOf(
  root: unknown,
  container: 'ckpt' | 'torch',
): { state: Map<string, Tensor>; format: 'ckpt' | 'torch' } {
  const record = isRecord(root) ? root : undefined;
  const nested = record?.state_dict;
  if (isRecord(nested)) return { state: tensorsOf(nested, 'state_dict'), format: 'ckpt' };
  if (container === 'ckpt' || record === undefined) {
    const keys = record === undefined ? describe(root) : `keys ${listKeys(record)}`;
    throw new LoadWeightsError(
      `loadWeights: no state dict; expected ${container === 'ckpt' ? "a checkpoint dict with 'state_dict'" : "a dict of tensors or a checkpoint with 'state_dict'"}, got ${keys}`,
      { missingKeys: [], unexpectedKeys: [], mismatchedKeys: [] },
    );
  }
  return { state: tensorsOf(record, 'the file'), format: 'torch' };
}

/** Every entry must be a tensor; the error names those that are not. */
function tensorsOf(record: Record<string, unknown>, where: string): Map<string, Tensor> {
  const state = new Map<string, Tensor>();
  const bad: string[] = [];
  for (const [k, v] of Object.entries(record)) {
    if (v instanceof Tensor) state.set(k, v);
    else bad.push(`${k} (${describe(v)})`);
  }
  if (bad.length > 0) {
    throw new LoadWeightsError(
      `loadWeights: ${where} holds values that are not tensors; expected a tensor under every key, got ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? `, … (${bad.length} in all)` : ''}`,
      { missingKeys: [], unexpectedKeys: [], mismatchedKeys: [] },
    );
  }
  return state;
}

function selectPrefix(state: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  if (prefix === '') return state;
  const out = new Map<string, Tensor>();
  for (const [k, v] of state) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  if (out.size === 0) {
    throw new LoadWeightsError(
      `loadWeights: no key starts with the prefix; expected keys like '${prefix}…', got ${listKeys(Object.fromEntries(state))}`,
      { missingKeys: [], unexpectedKeys: [], mismatchedKeys: [] },
    );
  }
  return out;
}

/** Every tensor reachable from `value` (objects, arrays, maps), so the load can free them all. */
function collectTensors(value: unknown, out: Tensor[]): void {
  const seen = new Set<unknown>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Tensor) out.push(v);
    else if (v instanceof Map) stack.push(...v.values());
    else if (Array.isArray(v)) stack.push(...v);
    else if (!ArrayBuffer.isView(v)) stack.push(...Object.values(v));
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Tensor) && !(x instanceof Map);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Map) return 'a dict with non-string keys';
  return typeof v === 'object' ? (v.constructor?.name ?? 'an object') : typeof v;
}

function listKeys(record: Record<string, unknown>): string {
  const keys = Object.keys(record);
  const shown = keys.slice(0, 8).map((k) => `'${k}'`);
  return keys.length === 0
    ? 'an empty dict'
    : `${shown.join(', ')}${keys.length > 8 ? `, … (${keys.length} in all)` : ''}`;
}
