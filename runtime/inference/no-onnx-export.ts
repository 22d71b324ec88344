/**
 * @module inference/no-onnx-export — what `lightning-ts/inference` has in place of runtime/nn/onnx-export.ts.
 *
 * Exporting ONNX is a step of the training side (`module.toOnnx`), and its tracer and protobuf
 * writer are a tenth of the bundle; scripts/bundle-inference.mjs aliases the exporter to this file,
 * whose {@link exportOnnx} throws an {@link OnnxExportError} saying where the exporter is.
 *
 * @example
 * await model.toOnnx(x); // in the inference entry: OnnxExportError
 */
import { LightningError } from '../errors.ts';
import type { Tensor } from '../tensor/index.ts';

/** Options of `toOnnx` (as runtime/nn/onnx-export.ts). */
export interface OnnxExportOptions {
  readonly inputNames?: readonly string[];
  readonly outputNames?: readonly string[];
  readonly dynamicAxes?: Readonly<Record<string, Readonly<Record<number, string>> | readonly number[]>>;
  readonly opsetVersion?: number;
  readonly path?: string;
}

/** A graph that cannot be exported (as runtime/nn/onnx-export.ts); here, always. */
export class OnnxExportError extends LightningError {
  readonly op: string | null = null;
  readonly modulePath: string | null = null;
}

/** Rejects: the exporter is not in the inference entry. */
export function exportOnnx(
  _module: unknown,
  _inputSample: Tensor | readonly Tensor[],
  _options: OnnxExportOptions = {},
): Promise<Uint8Array> {
  return Promise.reject(
    new OnnxExportError(
      "toOnnx: the ONNX exporter is not in the inference entry; expected import from 'lightning-ts' to export, got toOnnx() in 'lightning-ts/inference'",
    ),
  );
}
