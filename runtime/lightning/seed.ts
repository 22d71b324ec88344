/**
 * @module lightning/seed — `seedEverything`, as Lightning's.
 */
import { manualSeed } from '../random.ts';
import { ValueError } from '../errors.ts';

/**
 * Seeds the one generator behind initialisation, dropout and shuffling; returns the seed.
 * @example seedEverything(42); const model = new LitAutoEncoder(); // same weights every run
 */
export function seedEverything(seed: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new ValueError(`seedEverything: invalid seed; expected an integer in [0, 2^53), got ${String(seed)}`);
  }
  manualSeed(seed);
  return seed;
}
