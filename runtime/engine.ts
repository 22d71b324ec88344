/**
 * @module engine — the default backend that new tensors live on.
 */
import type { Backend } from './backend.ts';
import { BackendError } from './errors.ts';

let defaultBackend: Backend | undefined;

/** Makes `backend` the one that creation functions (`tensor`, `zeros`, ...) use. */
export function setDefaultBackend(backend: Backend): void {
  defaultBackend = backend;
}

/**
 * The backend that new tensors live on.
 * @example getDefaultBackend().name // 'wasm'
 */
export function getDefaultBackend(): Backend {
  if (defaultBackend === undefined) {
    throw new BackendError('engine: no backend is set; expected an import through a lightning-ts entry point or setDefaultBackend(), got none');
  }
  return defaultBackend;
}
