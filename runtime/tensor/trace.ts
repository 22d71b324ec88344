/**
 * @module tensor/trace — records the ops a forward pass applies, for graph export (ONNX).
 *
 * The op functions of the tensor layer call `traceOp(name, output, inputs, attrs)` once
 * they have their output. With no tracer active (always, outside an export) that is one
 * null check. With one active, each call is handed to it; a composite op (softmax, linear,
 * conv2d, layerNorm) traces itself after its parts did, so the exporter, which walks from
 * the outputs back through the last op that made each tensor, sees the composite and never
 * reaches the parts. Names are the primitives' (`'relu'`, `'add'`, `'matmul'`) or, for
 * composites, the function's in snake case (`'log_softmax'`, `'max_pool2d'`).
 */
import type { Tensor } from './tensor.ts';

/** The attributes of a traced op, by name (numbers, booleans, strings, null, number arrays). */
export interface TraceAttrs {
  readonly [name: string]: unknown;
}

/** One op applied while a tracer was active. */
export interface TracedOp {
  readonly op: string;
  /** In the op's own order; null for an absent optional input (a Linear without bias). */
  readonly inputs: readonly (Tensor | null)[];
  readonly output: Tensor;
  readonly attrs: TraceAttrs;
}

/** What `withTracer` hands every op to. */
export interface Tracer {
  record(op: TracedOp): void;
}

const NO_ATTRS: TraceAttrs = Object.freeze({});

let active: Tracer | null = null;

/**
 * Runs `fn` with `tracer` receiving every op the tensor layer applies; the previous tracer
 * (normally none) is restored after, also when `fn` throws.
 * @example
 * const ops: TracedOp[] = [];
 * withTracer({ record: (op) => ops.push(op) }, () => x.relu()); // ops[0].op === 'relu'
 */
export function withTracer<T>(tracer: Tracer, fn: () => T): T {
  const previous = active;
  active = tracer;
  try {
    return fn();
  } finally {
    active = previous;
  }
}

/**
 * Hands `output = op(inputs, attrs)` to the active tracer, if any; returns `output`.
 * An op that returns one of its inputs unchanged records nothing (it would make a cycle).
 * @example return traceOp('softmax', out, [x], { dim: d });
 */
export function traceOp(
  op: string,
  output: Tensor,
  inputs: readonly (Tensor | null)[],
  attrs: object = NO_ATTRS,
): Tensor {
  // `object`: an op's own attribute record (an interface, such as ActivationAttrs) passes as is.
  if (active !== null && !inputs.includes(output)) active.record({ op, inputs, output, attrs: attrs as TraceAttrs });
  return output;
}
