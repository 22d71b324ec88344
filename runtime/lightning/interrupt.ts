/**
 * @module lightning/interrupt — Ctrl-C during fit/validate/test/predict stops the run gracefully,
 * as a Lightning user expects of a KeyboardInterrupt.
 *
 * While an entry point runs, rank 0 listens for the host's interrupt (`Platform.onInterrupt`;
 * the host delivers signals to the script's main thread, which is rank 0). The first interrupt
 * stops listening (a second one gets the host's default: the process ends at once), prints a
 * notice, and marks the run: the loops stop at the next batch boundary, the entry point takes
 * its exception path (state 'interrupted', callbacks' `onException`, loggers finalized as failed)
 * and rejects with an InterruptedError. Under DDP it also fails the run's shared collective, so a
 * rank waiting in one wakes at once; the ranks then end as after any failure (strategies/ddp.ts),
 * and the DistributedError that reaches rank 0 becomes the InterruptedError.
 *
 * A loop that awaits only settled promises never gives the host a turn to run a signal handler,
 * so while one listens, a batch boundary yields one task every {@link YIELD_MS}.
 */
import { getPlatform } from '../platform.ts';
import { DistributedError, InterruptedError } from './errors.ts';
import type { Trainer } from './trainer.ts';

/** What rank 0 prints on the first interrupt. */
export const INTERRUPT_NOTICE =
  'Detected interrupt (SIGINT), attempting graceful shutdown... (press Ctrl-C again to stop at once)';

/** How often (ms) a batch boundary gives the host a turn; a turn costs 10–40 µs. */
const YIELD_MS = 50;

/**
 * Resolves in a new task, after the events the host has queued (a signal). A fresh channel each
 * time: Node runs every message a port receives in one turn, so a reused port never lets go.
 */
function nextTask(): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  port2.postMessage(null);
  return new Promise((resolve) => {
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
  });
}

/** What the loops and the Trainer ask rank 0's listener while an entry point runs. */
export interface InterruptWatch {
  /**
   * At a batch boundary: throws an InterruptedError once the interrupt came; every YIELD_MS
   * returns a promise that gives the host a turn, else undefined (no microtask).
   */
  boundary(): Promise<void> | undefined;
  /** After the interrupt, the DDP failure it caused (a DistributedError) as an InterruptedError; else `error`. */
  errorFor(error: unknown): unknown;
}

function interrupted(t: Trainer, cause?: unknown): InterruptedError {
  const c = t.checkpointCallback;
  const path = c?.lastModelPath ? ` (last: ${c.lastModelPath})` : c?.bestModelPath ? ` (best: ${c.bestModelPath})` : '';
  return new InterruptedError(
    `Trainer.${t.state.fn ?? 'fit'}: interrupted (SIGINT) at epoch ${t.currentEpoch}, global step ${t.globalStep}; expected the run to end on its own, got Ctrl-C, so it stopped there${t.worldSize > 1 ? ' on every rank' : ''}; the checkpoints already written are untouched${path}: resume fit from one with { ckptPath }`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Runs an entry point's `body` with the interrupt handled (see the module doc). Rank 0 listens
 * where the Platform can (not in browsers, not in a DDP worker, not in a nested run); the
 * listener is gone when it returns. An interrupt after the last batch boundary lets the run end
 * as it would, then rejects, so the script still stops.
 * @example await runInterruptible(trainer, () => fitBody())
 */
export async function runInterruptible<T>(trainer: Trainer, body: () => Promise<T>): Promise<T> {
  const platform = getPlatform();
  if (platform.onInterrupt === undefined || trainer.interrupt !== null || !trainer.isGlobalZero) return body();
  let signalled = false;
  let nextTurn = performance.now() + YIELD_MS;
  const check = (): void => {
    if (signalled) throw interrupted(trainer);
  };
  const watch: InterruptWatch = {
    boundary() {
      check();
      if (performance.now() < nextTurn) return undefined;
      return nextTask().then(() => {
        nextTurn = performance.now() + YIELD_MS;
        check();
      });
    },
    errorFor: (e) => (signalled && e instanceof DistributedError ? interrupted(trainer, e) : e),
  };
  let unlisten: (() => void) | null = platform.onInterrupt(() => {
    unlisten?.();
    unlisten = null;
    signalled = true;
    // A progress bar may hold the line: the notice starts a new one.
    platform.stdout.write(`${platform.stdout.isTTY ? '\n' : ''}lightning-ts: ${INTERRUPT_NOTICE}\n`);
    trainer.strategy?.abortRun('interrupted (SIGINT) on rank 0');
  });
  trainer.interrupt = watch;
  let out: T;
  try {
    out = await body();
  } catch (e) {
    const error = watch.errorFor(e);
    // fit takes its exception path itself (trainer.ts); validate/test/predict take it here.
    if (error instanceof InterruptedError && trainer.state.status !== 'interrupted') {
      trainer.state = { ...trainer.state, status: 'interrupted' };
      await trainer.hooks.onException(error);
      if (trainer.state.fn !== 'predict') await trainer.loggerConnector.finalize('failed');
    }
    throw error;
  } finally {
    unlisten?.();
    trainer.interrupt = null;
  }
  if (signalled) throw interrupted(trainer);
  return out;
}
