/**
 * @module stats — memory counters for leak tests.
 */
import type { Backend, MemoryInfo } from './backend.ts';
import { getDefaultBackend } from './default-backend.ts';

/**
 * Buffers alive on a backend (the default one if omitted), and its reserved bytes.
 * @example const before = liveBuffers().liveBuffers; tidy(() => x.mul(2)); liveBuffers().liveBuffers === before
 */
export function liveBuffers(backend: Backend = getDefaultBackend()): MemoryInfo {
  return backend.memory();
}
