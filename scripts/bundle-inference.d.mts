// Types of scripts/bundle-inference.mjs, for the tests that import it.
import type { BuildResult, Metafile, Plugin } from 'esbuild';

export interface InferenceEntry {
  readonly entry: string;
  readonly out: string;
  readonly platform: 'node' | 'browser' | 'neutral';
}

export const INFERENCE_ENTRIES: readonly InferenceEntry[];
export const FORBIDDEN: readonly RegExp[];
export const noAutograd: Plugin;
export function forbiddenInputs(metafile: Metafile, out: string): string[];
export function bundleInference(
  entry: InferenceEntry,
  options?: { readonly write?: boolean },
): Promise<BuildResult<{ metafile: true }>>;
