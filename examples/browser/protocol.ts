/**
 * @module examples/browser/protocol — the messages between the page and the training worker.
 *
 * Type-only: page.ts and worker.ts both import it, and nothing of it reaches the browser.
 */

/** Which backend trains: 'cpu' is the wasm kernels. */
export type Accelerator = 'cpu' | 'webgpu';

/** What the page asks the worker. */
export type ToWorker =
  | { readonly type: 'train'; readonly steps: number; readonly accelerator: Accelerator }
  | { readonly type: 'stop' }
  | { readonly type: 'download'; readonly what: 'checkpoint' | 'events' }
  | { readonly type: 'load'; readonly name: string; readonly bytes: ArrayBuffer };

/** A failure, with the library's typed error named and a state dict's mismatches listed. */
export interface ErrorReport {
  readonly type: 'error';
  /** What the worker was doing. */
  readonly during: 'startup' | 'train' | 'download' | 'load';
  /** The error's class: 'CheckpointError', 'StateDictError', 'NoGpuAdapterError', ... */
  readonly name: string;
  readonly message: string;
  readonly missingKeys: readonly string[];
  readonly unexpectedKeys: readonly string[];
  /** `key: expected [..], got [..]` for each tensor whose shape differs from the model's. */
  readonly mismatchedKeys: readonly string[];
}

/** Pictures of the model now: reconstructions, decoded samples and embeddings. */
export interface Visuals {
  readonly type: 'visuals';
  /** Reconstructions of the originals, 784 values each. */
  readonly reconstructions: Float32Array;
  /** Digits decoded from random points in the embeddings' bounding box, 784 values each. */
  readonly samples: Float32Array;
  /** The 3-D embeddings of the scatter digits, 3 values each. */
  readonly embeddings: Float32Array;
}

/** What the worker tells the page. */
export type FromWorker =
  | {
      readonly type: 'ready';
      /** The WebGPU adapter's description, or null with the reason there is none. */
      readonly gpu: { readonly adapter: string | null; readonly reason: string };
      readonly digits: number;
      /** The originals shown beside their reconstructions, 784 values each. */
      readonly originals: Float32Array;
      /** The labels of the scatter digits, in the order of `Visuals.embeddings`. */
      readonly scatterLabels: Uint8Array;
    }
  | {
      readonly type: 'progress';
      readonly step: number;
      readonly epoch: number;
      /** [global step, training loss] pairs since the last progress message. */
      readonly losses: readonly (readonly [number, number])[];
      readonly stepsPerSecond: number;
    }
  | Visuals
  | {
      readonly type: 'done';
      readonly step: number;
      readonly stopped: boolean;
      readonly backend: string;
      /** The checkpoint the Trainer wrote (the next run resumes from it). */
      readonly checkpoint: string | null;
    }
  | { readonly type: 'file'; readonly name: string; readonly bytes: ArrayBuffer }
  | {
      readonly type: 'loaded';
      readonly name: string;
      readonly step: number;
      /** Whether the next run resumes the optimizer and step count, not only the weights. */
      readonly resumes: boolean;
    }
  | ErrorReport;
