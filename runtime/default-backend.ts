/**
 * @module default-backend — the default backend that new tensors live on.
 */
import type { Backend } from './backend.ts';
import { BackendError } from './errors.ts';

let defaultBackend: Backend | undefined;
let failure: unknown;

/** Makes `backend` the one that creation functions (`tensor`, `zeros`, ...) use. */
export function setDefaultBackend(backend: Backend): void {
  defaultBackend = backend;
  failure = undefined;
}

/**
 * Records why an entry point could not start its default backend, so the first
 * use reports it (with the cause) instead of the import failing.
 */
export function setDefaultBackendFailure(error: unknown): void {
  failure = error;
}

/**
 * The backend that new tensors live on.
 * @example getDefaultBackend().name // 'wasm'
 */
export function getDefaultBackend(): Backend {
  if (defaultBackend === undefined && failure !== undefined) {
    throw new BackendError(
      `engine: the default backend did not start; expected init() to succeed, got: ${failure instanceof Error ? failure.message : String(failure)} (call init({ kernelUrl }) or init({ kernelBytes }) to load the kernels from elsewhere)`,
      { cause: failure },
    );
  }
  if (defaultBackend === undefined) {
    throw new BackendError(
      'engine: no backend is set; expected an import through a lightning-ts entry point or setDefaultBackend(), got none',
    );
  }
  return defaultBackend;
}
