/**
 * @module inference/onnx-errors — the typed errors of the ONNX interpreter (onnx-session.ts).
 *
 * A graph the interpreter cannot run says which node and why, at `OnnxSession.create`, before
 * anything is computed; an input that does not fit the graph names the input and the shape it
 * wants, with dynamic axes (dim_params) shown by name.
 */
import { LightningError } from '../errors.ts';

/** Where a node sits in its graph: its op type, name ('' when the file gave none) and index. */
export interface OnnxNodeRef {
  readonly opType: string;
  readonly nodeName: string;
  readonly nodeIndex: number;
}

/**
 * A node that failed while running (a shape the op refuses, a value out of range); the
 * tensor layer's error is the `cause`.
 * @example
 * try { await session.run({ input: x }); } catch (e) { if (e instanceof OnnxNodeError) console.error(e.nodeIndex, e.opType); }
 */
export class OnnxNodeError extends LightningError {
  readonly opType: string;
  readonly nodeName: string;
  readonly nodeIndex: number;
  constructor(message: string, node: OnnxNodeRef, options?: { cause?: unknown }) {
    super(message, options);
    this.opType = node.opType;
    this.nodeName = node.nodeName;
    this.nodeIndex = node.nodeIndex;
  }
}

/**
 * An operator, attribute value, element type or opset this interpreter does not run.
 * `attribute` names the attribute when one is the problem (else null); the node fields are
 * -1 / '' for a problem of the whole model (its opset, a graph input's element type).
 * @example
 * // onnx: operator 'NonMaxSuppression' is not supported (node 'nms', #41); expected one of Abs, Add, ..., got 'NonMaxSuppression'
 */
export class OnnxUnsupportedError extends OnnxNodeError {
  readonly attribute: string | null;
  constructor(message: string, node: OnnxNodeRef, attribute: string | null = null) {
    super(message, node);
    this.attribute = attribute;
  }
}

/**
 * A feed that does not fit the graph's declared inputs: an unknown or missing name, the wrong
 * dtype, rank or size. `expected` is printable, e.g. `float32 [batch, 784]`.
 * @example
 * // OnnxSession.run: input 'input' has the wrong shape; expected [batch, 784], got [2, 783]
 */
export class OnnxInputError extends LightningError {
  readonly input: string;
  readonly expected: string;
  readonly got: string;
  constructor(message: string, details: { input: string; expected: string; got: string }) {
    super(message);
    this.input = details.input;
    this.expected = details.expected;
    this.got = details.got;
  }
}

/** `node 'name' (#3)`, or `node #3` when the file gave no name. */
export function describeNode(node: OnnxNodeRef): string {
  return node.nodeName === '' ? `node #${node.nodeIndex}` : `node '${node.nodeName}' (#${node.nodeIndex})`;
}
