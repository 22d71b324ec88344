/**
 * @module lightning/run-lock — one Trainer run at a time in each process (JavaScript realm).
 *
 * Grad mode and the default random generator are process-wide, so a second Trainer's run
 * interleaved with the first at an `await` would change the first's results. A run is refused
 * before it touches anything while another Trainer's run is in progress. The same Trainer may
 * nest runs (a callback that calls `trainer.validate`); the claim ends with the outermost one.
 */
import type { Stage } from './callbacks/callback.ts';
import { ConcurrentRunError } from './errors.ts';

/** The owner and stage of the run in progress in this process, if any. */
let running: { owner: object; stage: Stage } | null = null;

/**
 * Runs `body` as this process's only Trainer run, on behalf of `owner` (the Trainer).
 * @example await runAlone(trainer, 'fit', () => fitBody())
 */
export async function runAlone<T>(owner: object, stage: Stage, body: () => Promise<T>): Promise<T> {
  const held = running;
  if (held !== null && held.owner !== owner) {
    throw new ConcurrentRunError(
      `Trainer.${stage}: another Trainer's ${held.stage} is running in this process; expected one run at a time (grad mode and the default random generator are process-wide), got a second run started before the first ended (await the first run, or run each in its own worker or process)`,
    );
  }
  if (held !== null) return body();
  running = { owner, stage };
  try {
    return await body();
  } finally {
    running = null;
  }
}
