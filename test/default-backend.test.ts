import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../runtime/backends/reference/backend.ts';
import { getDefaultBackend, setDefaultBackend, setDefaultBackendFailure } from '../runtime/default-backend.ts';
import { BackendError } from '../runtime/errors.ts';
import { tensor } from '../runtime/tensor/index.ts';

describe('engine', () => {
  it('engine: a failed start is reported, with its cause, at the first use', () => {
    const cause = new Error('fetch of kernels-simd.wasm failed: 404');
    setDefaultBackendFailure(cause);
    let caught: unknown;
    try {
      tensor([1, 2]);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BackendError);
    expect((caught as BackendError).message).toBe(
      'engine: the default backend did not start; expected init() to succeed, got: fetch of kernels-simd.wasm failed: 404 (call init({ kernelUrl }) or init({ kernelBytes }) to load the kernels from elsewhere)',
    );
    expect((caught as BackendError).cause).toBe(cause);
  });

  it('engine: setting a backend clears an earlier failure', () => {
    setDefaultBackendFailure(new Error('no kernels'));
    const backend = createReferenceBackend();
    setDefaultBackend(backend);
    expect(getDefaultBackend()).toBe(backend);
    expect(Array.from(tensor([1, 2]).dataSync())).toEqual([1, 2]);
  });
});
