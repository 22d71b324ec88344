/**
 * @module lightning/callbacks/callback — `Callback`: an object with optional hooks and its own state.
 *
 * The hooks are the optional methods of `CallbackHooks` (lightning/hooks.ts); a subclass
 * defines the ones it needs. A callback's `stateDict()` goes into the checkpoint under its
 * `stateKey`, and `loadStateDict` gets it back on resume, as in Lightning.
 */
import type { CallbackHooks } from '../hooks.ts';

export type { HookResult, Stage } from '../hooks.ts';

// The class merges with this interface, so every hook is an optional method of Callback that a
// subclass defines with `override`, and the Trainer skips callbacks that leave it undefined.
export interface Callback extends CallbackHooks {}

/**
 * The base of every callback: no hooks until a subclass defines them, and no state.
 * @example
 * class PrintEpochs extends Callback {
 *   override onTrainEpochEnd(trainer: Trainer) { console.log('epoch', trainer.currentEpoch, 'done'); }
 * }
 * new Trainer({ callbacks: [new PrintEpochs()] });
 */
export class Callback {
  /**
   * The key of this callback's state in a checkpoint's `callbacks` (Lightning's `state_key`):
   * the class name, plus the settings that tell two instances apart for callbacks that may repeat.
   */
  get stateKey(): string {
    return this.constructor.name;
  }

  /** State to store in checkpoints (default: none). */
  stateDict(): Record<string, unknown> {
    return {};
  }

  /** Restores what `stateDict` returned (default: nothing to restore). */
  loadStateDict(_state: Readonly<Record<string, unknown>>): void {}
}

/**
 * Python's `repr` of a small dict of settings, as Lightning's `_generate_state_key` builds keys.
 * @example pyReprDict({ monitor: null, mode: 'min' }) // "{'monitor': None, 'mode': 'min'}"
 */
export function pyReprDict(values: Readonly<Record<string, string | number | boolean | null>>): string {
  const repr = (v: string | number | boolean | null): string =>
    v === null
      ? 'None'
      : typeof v === 'boolean'
        ? v
          ? 'True'
          : 'False'
        : typeof v === 'string'
          ? `'${v}'`
          : String(v);
  return `{${Object.entries(values)
    .map(([k, v]) => `'${k}': ${repr(v)}`)
    .join(', ')}}`;
}
