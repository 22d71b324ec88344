/**
 * @module web-worker-ranks — DDP ranks as module Web Workers, shared by the Deno and browser
 * bindings (Node uses worker_threads, bindings/node.ts).
 *
 * As in Lightning and in Node, each rank re-runs the user's module: rank 0 starts
 * `new Worker(<bootstrap>, { type: 'module', name: 'lightning-ts-ddp-rank-<r>-of-<n>' })`, where
 * the bootstrap is a small module (a blob URL) that imports the script's URL and then closes
 * its worker. The rank travels in the worker's name (`self.name` in the worker), so the
 * module's `new Trainer({ strategy: 'ddp' })` finds it through `Platform.workerRank` before any
 * message arrives. The worker itself is comlink's endpoint on both sides.
 *
 * Why a bootstrap rather than the script itself as the worker's module: a Web Worker lives until
 * it is terminated or closes itself, and in Deno a live worker keeps the process alive. Node's
 * worker thread ends when its script ends; the bootstrap gives Web Workers the same lifetime
 * (it closes the worker once the script's module has finished evaluating, top-level awaits
 * included) and tells rank 0 how it ended, as Node's exit event does.
 *
 * @example
 * const handle = spawnModuleWorker('file:///app/train.ts', { rank: 1, worldSize: 2 });
 */
import type { Endpoint } from 'comlink';
import type { SpawnWorkerOptions, WorkerExit, WorkerHandle, WorkerRank } from '../runtime/platform.ts';

/** The worker-name prefix that marks a Web Worker as a DDP rank. */
const NAME_PREFIX = 'lightning-ts-ddp-rank-';
/** The key of the bootstrap's last message: how the script ended (comlink ignores messages without an id). */
const EXIT_KEY = 'lightning-ts.ddp-exit';
/** The key of a rank's first message: it listens now (see {@link spawnModuleWorker}). */
const READY_KEY = 'lightning-ts.ddp-ready';

/**
 * The bootstrap module: imports the script (its URL is the worker's first message, so the name
 * stays short), reports how that went and closes the worker. An uncaught error thrown later
 * (outside the import chain) still reaches rank 0 as the Worker's error event.
 */
const BOOTSTRAP = `
const KEY = ${JSON.stringify(EXIT_KEY)};
const url = new URL(location.href).hash.slice(1);
try {
  await import(decodeURIComponent(url));
  postMessage({ [KEY]: { code: 0 } });
} catch (error) {
  let sent = error;
  try { structuredClone(error); } catch { sent = String(error && error.stack || error); }
  postMessage({ [KEY]: { code: 1, error: sent } });
}
close();
`;

let bootstrapUrl: string | undefined;

/** A blob: URL of {@link BOOTSTRAP}, made once. */
function bootstrap(): string {
  bootstrapUrl ??= URL.createObjectURL(new Blob([BOOTSTRAP], { type: 'text/javascript' }));
  return bootstrapUrl;
}

/**
 * Starts rank `options.rank` as a module Web Worker that imports `scriptUrl` (the module being
 * run: `Deno.mainModule`, or the browser worker's own `location.href`).
 *
 * @example
 * const handle = spawnModuleWorker(Deno.mainModule, { rank: 1, worldSize: 2 });
 */
export function spawnModuleWorker(scriptUrl: string, options: SpawnWorkerOptions): WorkerHandle {
  // The script's URL rides in the fragment, which a blob: URL keeps and ignores when it loads.
  const worker = new Worker(`${bootstrap()}#${encodeURIComponent(scriptUrl)}`, {
    type: 'module',
    name: `${NAME_PREFIX}${options.rank}-of-${options.worldSize}`,
  });
  const listeners: ((exit: WorkerExit) => void)[] = [];
  let exited: WorkerExit | null = null;
  const end = (exit: WorkerExit): void => {
    if (exited !== null) return;
    exited = exit;
    for (const l of listeners) l(exit);
  };
  // A Web Worker drops what arrives before its script listens (a Node MessagePort queues it), and
  // the rank's script listens only once its Trainer exists: rank 0's messages wait for its word.
  let ready = false;
  const queued: [unknown, Transferable[]][] = [];
  worker.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as Record<string, unknown> | null;
    if (data?.[READY_KEY] === true && !ready) {
      ready = true;
      for (const [message, transfer] of queued.splice(0)) worker.postMessage(message, transfer);
    }
    const exit = data?.[EXIT_KEY] as WorkerExit | undefined;
    if (exit !== undefined) end(exit);
  });
  worker.addEventListener('error', (event: ErrorEvent) => {
    // Handled here: the rank's failure goes to the run, not to the host's uncaught-error path.
    event.preventDefault();
    end({ code: 1, error: event.error ?? new Error(event.message) });
  });
  return {
    endpoint: {
      postMessage(message: unknown, transfer: Transferable[] = []): void {
        if (ready) worker.postMessage(message, transfer);
        else queued.push([message, transfer]);
      },
      addEventListener: worker.addEventListener.bind(worker),
      removeEventListener: worker.removeEventListener.bind(worker),
    } as Endpoint,
    onExit: (listener) => {
      listeners.push(listener);
      if (exited !== null) listener(exited);
    },
    // A Web Worker has no ref/unref; the bootstrap ends it when its script ends instead.
    keepAlive: () => {},
    terminate: async () => {
      worker.terminate();
      end({ code: 1 });
    },
  };
}

/**
 * This worker's rank when {@link spawnModuleWorker} started it (read from `self.name`), else null.
 *
 * @example
 * const self = moduleWorkerRank(); // { rank: 1, worldSize: 2, endpoint: globalThis, ... } in rank 1
 */
export function moduleWorkerRank(): WorkerRank | null {
  const scope = globalThis as { WorkerGlobalScope?: unknown; name?: unknown };
  if (scope.WorkerGlobalScope === undefined || typeof scope.name !== 'string') return null;
  const m = new RegExp(`^${NAME_PREFIX}(\\d+)-of-(\\d+)$`).exec(scope.name);
  if (m === null) return null;
  const scopePost = (globalThis as unknown as { postMessage(message: unknown, transfer: Transferable[]): void })
    .postMessage;
  let announced = false;
  const endpoint: Endpoint = {
    postMessage: (message: unknown, transfer: Transferable[] = []) => scopePost(message, transfer),
    addEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
      globalThis.addEventListener(type, listener);
      // comlink's expose listens here: from now on rank 0 may talk to this rank.
      if (type === 'message' && !announced) {
        announced = true;
        scopePost({ [READY_KEY]: true }, []);
      }
    },
    removeEventListener: (type: string, listener: EventListenerOrEventListenerObject) =>
      globalThis.removeEventListener(type, listener),
  };
  return { rank: Number(m[1]), worldSize: Number(m[2]), endpoint, keepAlive: () => {} };
}
